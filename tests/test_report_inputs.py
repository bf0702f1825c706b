"""What the report reads from the published file (assets/publish/report/inputs.py), on the session's end-to-end
build (tests/conftest.py snapshot_build)."""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.publish.report.inputs import latest_ranked_year, read_report_inputs
from tests.conftest import SnapshotBuild
from tests.helpers.end_to_end import rbn_sickness_absence_2024_25


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> Path:
    """The published file of the session's one snapshot build (tests/conftest.py); read it, never write it."""
    return snapshot_build.published


def test_latest_ranked_year_skips_years_without_ranks() -> None:
    # synthetic: 2025 is listed but nobody is ranked, as 2021-2023 are on the real extract
    index = pl.DataFrame({"survey_year": [2023, 2024, 2025], "rank_in_group": [None, 3, None]})
    assert latest_ranked_year(index) == 2024
    # no year ranked (offline --years 2021-2023): the newest year, with every trust listed unranked
    assert latest_ranked_year(index.filter(pl.col("survey_year") != 2024)) == 2025
    with pytest.raises(ValueError, match="empty"):
        latest_ranked_year(index.clear())


def test_inputs_are_the_published_tables(published: Path) -> None:
    inputs = read_report_inputs(published)
    con = duckdb.connect(str(published), read_only=True)
    # 2021-2023 rest on the extract's 18 questions and are not ranked: the latest ranked year is 2024
    assert inputs.survey_year == 2024
    (built_at,) = con.sql("SELECT max(built_at) FROM build_info").fetchone()  # type: ignore[misc]
    assert inputs.built_on == built_at.date() and inputs.built_on <= date.today()
    assert inputs.readiness_index.height == con.sql("SELECT count(*) FROM readiness_index").fetchone()[0]  # type: ignore[index]
    # the funnel's question only: q12b of 2024, one row per organisation in the NSS24 workbook that has it
    assert set(inputs.staff_survey_items["question_id"]) == {"q12b"}  # type: ignore[index]
    names = dict(inputs.names.select("org_code", "org_name").iter_rows())
    assert names["RBN"] == "Mersey and West Lancashire Teaching Hospitals NHS Trust"  # the survey's own name


def test_validity_is_index_validity_with_its_points(published: Path) -> None:
    inputs = read_report_inputs(published)
    summary, points = inputs.validity_summary, inputs.validity_points
    assert summary is not None and points is not None
    # index_validity, 2024: RTT is not estimable offline (no 2024-25 months), so two outcomes are charted
    con = duckdb.connect(str(published), read_only=True)
    published_rows = con.sql(
        "SELECT subject_b, n, estimate FROM index_validity WHERE validity_check = 'outcome_association' "
        "AND period = '2024' AND n > 0 ORDER BY 1"
    ).fetchall()
    assert summary.select("outcome", "n", "coefficient").rows() == published_rows
    assert [outcome for outcome, _, _ in published_rows] == ["ae_4hr_pct_all", "sickness_absence_pct"]
    # the points: ranked 2024 trusts with all 12 months of 2024-25 (method_settings.csv min_months_covered)
    expected = con.sql(
        "SELECT count(*) FROM readiness_index r JOIN performance_annual p USING (org_code) "
        "WHERE r.survey_year = 2024 AND r.ranked AND p.financial_year = '2024-25' "
        "AND p.measure = 'sickness_absence_pct' AND p.months_covered = 12 AND p.value IS NOT NULL"
    ).fetchone()[0]  # type: ignore[index]
    assert points.filter(pl.col("outcome") == "sickness_absence_pct").height == expected
    rbn = points.filter((pl.col("org_code") == "RBN") & (pl.col("outcome") == "sickness_absence_pct")).row(
        0, named=True
    )
    # RBN 2024-25 sickness absence, by hand from its 12 monthly CSV rows
    assert rbn["outcome_value"] == pytest.approx(rbn_sickness_absence_2024_25(), abs=1e-9)
    # sickness absence is also an index indicator (index_validity.subject = readiness_index_without_outcome); A&E
    # all types no longer is (the index scores Type 1 A&E since issue 15), so its r uses the published index
    assert inputs.validity_notes[1] == (
        "For Staff sickness absence rate, r uses the index rebuilt without that outcome's own indicator."
    )
    assert inputs.validity_notes[-1] == "Points: the published index against the outcome, financial year 2024-25."
