"""`nhs-readiness run` on the bundled snapshot, then queries against the published file."""

import duckdb
import pytest

from pipeline.cli import main


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NHS_READINESS_RAW_DIR", str(root / "raw"))
        mp.setenv("NHS_READINESS_WAREHOUSE", str(root / "work" / "warehouse.duckdb"))
        mp.setenv("NHS_READINESS_PUBLISHED_DIR", str(root / "published"))
        mp.delenv("DAGSTER_HOME", raising=False)
        assert main(["run"]) == 0
        first_build = (root / "published" / "nhs_change_readiness.duckdb").stat().st_mtime_ns
        assert main(["run"]) == 0  # nothing changed: reused, file untouched
        path = root / "published" / "nhs_change_readiness.duckdb"
        assert path.stat().st_mtime_ns == first_build
        yield path


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
