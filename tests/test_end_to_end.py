"""`nhs-readiness run` on the bundled snapshot, then queries against the published file.

The build runs with every storage location moved out of the project (snapshot, raw cache, warehouse, published
outputs and DAGSTER_HOME; some as file:// URIs), so the same build also shows that nothing depends on data/.
"""

import csv
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline import dictionary
from pipeline.cli import main
from pipeline.settings import DATA_DIR, PROJECT_ROOT, SNAPSHOT_DIR


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under `folder` with its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else 0, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


@pytest.fixture(scope="module")
def moved_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("e2e")
    locations = {
        "snapshot": root / "elsewhere" / "snapshot",
        "raw": root / "raw",
        "warehouse": root / "work" / "warehouse.duckdb",
        "published": root / "published",
        "dagster_home": root / "dagster_home",
    }
    shutil.copytree(SNAPSHOT_DIR, locations["snapshot"])
    locations["dagster_home"].mkdir()
    shutil.copyfile(PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml", locations["dagster_home"] / "dagster.yaml")
    data_before = _listing(DATA_DIR)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NHS_READINESS_SNAPSHOT_DIR", locations["snapshot"].as_uri())
        mp.setenv("NHS_READINESS_RAW_DIR", str(locations["raw"]))
        mp.setenv("NHS_READINESS_WAREHOUSE", locations["warehouse"].as_uri())
        mp.setenv("NHS_READINESS_PUBLISHED_DIR", locations["published"].as_uri())
        mp.setenv("DAGSTER_HOME", str(locations["dagster_home"]))
        mp.delenv("NHS_READINESS_SOURCE", raising=False)
        assert main(["run"]) == 0
        path = locations["published"] / "nhs_change_readiness.duckdb"
        first_build = path.stat().st_mtime_ns
        assert main(["run"]) == 0  # nothing changed: reused, file untouched
        assert path.stat().st_mtime_ns == first_build
    locations["data_changes"] = {k: v for k, v in _listing(DATA_DIR).items() if data_before.get(k) != v}
    locations["data_removed"] = set(data_before) - set(_listing(DATA_DIR))
    yield locations


@pytest.fixture(scope="module")
def published(moved_build: dict[str, Path]) -> Path:
    return moved_build["published"] / "nhs_change_readiness.duckdb"


def test_every_location_moved_out_of_the_project(moved_build: dict) -> None:
    assert moved_build["data_changes"] == {} and moved_build["data_removed"] == set()
    con = duckdb.connect(str(moved_build["published"] / "nhs_change_readiness.duckdb"), read_only=True)
    tables = {name for (name,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    contract = {doc.name for doc in dictionary.published_tables()}
    assert contract <= tables
    assert {p.stem for p in (moved_build["published"] / "parquet").glob("*.parquet")} >= contract
    # every file was read from the moved snapshot (the warehouse's raw_* tables keep each file's local path)
    warehouse = duckdb.connect(str(moved_build["warehouse"]), read_only=True)
    listed = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw_%'"
    raw_tables = [t for (t,) in warehouse.sql(listed).fetchall()]
    paths = {p for t in raw_tables for (p,) in warehouse.sql(f'SELECT path FROM "{t}"').fetchall()}
    warehouse.close()
    with (moved_build["snapshot"] / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        manifest = {str(moved_build["snapshot"] / row["path"]) for row in csv.DictReader(handle)}
    assert len(raw_tables) == 6 and paths and paths <= manifest
    assert any((moved_build["dagster_home"] / "storage").iterdir())  # the runs were kept in the moved instance


def test_published_file_answers_queries(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    # from the real ODS etr 2026 export: 274 rows, RBN open in the North West
    assert con.sql("SELECT count(*) FROM ods_trusts").fetchall() == [(274,)]
    assert con.sql("SELECT region_name, close_date FROM ods_trusts WHERE org_code = 'RBN'").fetchall() == [
        ("North West", None)
    ]
    assert con.sql("SELECT DISTINCT source_mode FROM build_info").fetchall() == [("snapshot",)]


def test_published_staff_survey_tables(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    per_year = con.sql("SELECT survey_year, count(*) FROM survey_organisations GROUP BY 1 ORDER BY 1").fetchall()
    # official organisation counts, equal to the extract's rows per year and the NSS24 workbook's 263 rows
    assert per_year == [(2021, 280), (2022, 264), (2023, 268), (2024, 263)]
    assert con.sql(
        "SELECT count(DISTINCT question_id) FROM staff_survey_items WHERE survey_year = 2024"
    ).fetchall() == [(124,)]
    assert con.sql("SELECT DISTINCT survey_year FROM staff_survey_responses").fetchall() == [(2024,)]
    # NSS24 workbook 'HEALTH WELLBEING SAFETY Q12' row 84: RBN q12b often 24.224946669 + always 5.601313901
    (unfavourable,) = con.sql(
        "SELECT pct_unfavourable FROM staff_survey_items WHERE org_code = 'RBN' AND survey_year = 2024 "
        "AND question_id = 'q12b'"
    ).fetchall()[0]
    assert abs(unfavourable - (24.224946669 + 5.601313901)) < 1e-9
    # 'PEOPLE PROMISE ELEMENTS' row 84 (RBN), G84 = 7.373123004
    assert con.sql(
        "SELECT round(score, 9) FROM people_promise_scores WHERE org_code = 'RBN' AND measure_id = 'PP1'"
    ).fetchall() == [(7.373123004,)]
    # organisations: survey-only codes keep the survey's name and group; mergers point to their successor
    rows = {
        code: (group, in_ods, successor)
        for code, group, in_ods, successor in con.sql(
            "SELECT org_code, benchmarking_group, in_ods, successor_code FROM organisations "
            "WHERE org_code IN ('TAD', 'RVY', 'R1F1')"
        ).fetchall()
    }
    assert rows["TAD"][1] is False and rows["TAD"][0].startswith("Mental Health")
    assert rows["RVY"][2] == "RBN" and rows["R1F1"][2] == "R1F"
    assert con.sql("SELECT count(*) FROM data_dictionary WHERE table_name = 'staff_survey_items'").fetchall() == [(12,)]


def test_published_file_has_the_performance_tables(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    months = dict(
        con.sql("SELECT dataset, count(DISTINCT period_month) FROM performance_monthly GROUP BY 1").fetchall()
    )
    # the snapshot months: A&E Apr 2024-Jun 2025, sickness Apr 2024-Mar 2025, RTT Apr 2026, cancer Apr 2025 + Jan 2026
    assert months == {"ae": 15, "sickness": 12, "rtt": 1, "cancer": 2}
    measures = {m for (m,) in con.sql("SELECT DISTINCT measure FROM performance_monthly").fetchall()}
    assert len(measures) == 10 and measures == {
        m for (m,) in con.sql("SELECT measure FROM performance_measures").fetchall()
    }
    # RTT PROVENANCE.md: RTH (Oxford University Hospitals) 90,210 incomplete pathways, 62.1% within 18 weeks
    rth = con.sql(
        "SELECT measure, value FROM performance_monthly WHERE org_code = 'RTH' AND period_month = DATE '2026-04-01'"
    ).fetchall()
    assert dict(rth)["rtt_incomplete"] == 90_210 and round(dict(rth)["rtt_within_18w_pct"], 1) == 62.1
    assert con.sql("SELECT typeof(period_month) FROM performance_monthly LIMIT 1").fetchall() == [("DATE",)]
    # 2024-25: twelve months of A&E and sickness absence for a trust present all year
    assert con.sql(
        "SELECT months_covered FROM performance_annual WHERE org_code = 'RTH' AND financial_year = '2024-25' "
        "AND measure IN ('ae_4hr_pct_all', 'sickness_absence_pct')"
    ).fetchall() == [(12,), (12,)]
    assert con.sql("SELECT count(*) FROM performance_unmatched WHERE dataset = 'ae'").fetchall()[0][0] > 0
    described = con.sql("SELECT count(*) FROM data_dictionary WHERE table_name = 'performance_monthly'").fetchall()
    assert described == [(12,)]


def test_published_spc_charts_every_performance_series(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    assert (
        con.sql("SELECT count(*) FROM spc_monthly").fetchall()
        == con.sql("SELECT count(*) FROM performance_monthly").fetchall()
    )
    # RBN sickness absence 2024-25 (FTE days lost ÷ available in the 12 real monthly CSVs): the same special causes
    # as the hand-worked series in tests/test_spc_xmr.py — August below the lower limit (lower is better),
    # January and February 2 of 3 near the upper limit
    flagged = con.sql(
        "SELECT period_month::VARCHAR, point_type FROM spc_monthly WHERE org_code = 'RBN' "
        "AND measure = 'sickness_absence_pct' AND point_type <> 'common_cause' ORDER BY 1"
    ).fetchall()
    assert flagged == [
        ("2024-08-01", "special_cause_improvement"),
        ("2025-01-01", "special_cause_concern"),
        ("2025-02-01", "special_cause_concern"),
    ]
