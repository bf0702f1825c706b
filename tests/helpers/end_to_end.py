"""One `nhs-readiness run` on the bundled snapshot per test session, shared by every module that reads its output
(tests/test_end_to_end.py, tests/test_researcher_access.py, tests/test_report_site.py).

A fixture imported into several modules is set up once per module even at session scope, so each module's own
`published` fixture calls `published_file`, which builds on the first call and returns the same file afterwards."""

import csv
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.settings import SNAPSHOT_DIR

_BUILT: list[Path] = []


def published_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published DuckDB file of a full build (its report and Parquet folders beside it). The environment points
    at the build only while it runs, so other tests keep their own locations."""
    if _BUILT:
        return _BUILT[0]
    root = tmp_path_factory.mktemp("e2e")
    path = root / "published" / "nhs_change_readiness.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NHS_READINESS_RAW_DIR", str(root / "raw"))
        mp.setenv("NHS_READINESS_WAREHOUSE", str(root / "work" / "warehouse.duckdb"))
        mp.setenv("NHS_READINESS_PUBLISHED_DIR", str(root / "published"))
        mp.delenv("DAGSTER_HOME", raising=False)
        assert main(["run"]) == 0
        first_build = path.stat().st_mtime_ns
        first_report = (path.parent / "report" / "report.json").stat().st_mtime_ns
        assert main(["run"]) == 0  # nothing changed: reused, file and report untouched
        assert path.stat().st_mtime_ns == first_build
        assert (path.parent / "report" / "report.json").stat().st_mtime_ns == first_report
    _BUILT.append(path)
    return path


def rbn_sickness_absence_2024_25() -> float:
    """By hand from the 12 real monthly CSVs (data/snapshot/sickness-absence/nhs_sickness_absence_2024-04.csv to
    2025-03.csv, the RBN row of each): 100 × ΣFTE_DAYS_LOST ÷ ΣFTE_DAYS_AVAILABLE. April 2024, for example, is
    24519.82471 ÷ 637391.08959 (3.85%)."""
    lost = available = 0.0
    files = sorted((SNAPSHOT_DIR / "sickness-absence").glob("nhs_sickness_absence_202*.csv"))
    assert (files[0].stem[-7:], files[-1].stem[-7:], len(files)) == ("2024-04", "2025-03", 12)
    for path in files:
        with path.open(encoding="utf-8-sig") as handle:
            (row,) = [r for r in csv.DictReader(handle) if r["ORG_CODE"] == "RBN"]
        lost += float(row["FTE_DAYS_LOST"])
        available += float(row["FTE_DAYS_AVAILABLE"])
    return 100 * lost / available
