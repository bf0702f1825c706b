"""One `nhs-readiness run` on the bundled snapshot per test session, shared by every module that reads its output
(tests/test_end_to_end.py, tests/test_researcher_access.py, tests/test_report_site.py).

A fixture imported into several modules is set up once per module even at session scope, so each module's own
`published` fixture calls `published_file`, which builds on the first call and returns the same file afterwards."""

from pathlib import Path

import pytest

from pipeline.cli import main

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
