"""`nhs-readiness run` on the bundled snapshot, then queries against the published file.

The build runs with every storage location moved out of the project (snapshot, raw cache, warehouse, published
outputs and DAGSTER_HOME; some as file:// URIs), so the same build also shows that nothing depends on data/.
"""

import csv
import statistics

import dagster as dg
import duckdb
import pytest

from pipeline import dictionary
from pipeline.cli import main
from tests.conftest import SessionBuild


@pytest.fixture(scope="module")
def published(snapshot_build: SessionBuild, tmp_path_factory: pytest.TempPathFactory):
    # the build's Dagster instance goes with it, where the command line looks for it (beside the warehouse)
    build = snapshot_build.copy_to(tmp_path_factory.mktemp("e2e") / "build", instance=True)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in build.environment.items():
            mp.setenv(name, value)
        mp.delenv("DAGSTER_HOME", raising=False)
        report = build.published.parent / "report" / "report.json"
        first_build, first_report = build.published.stat().st_mtime_ns, report.stat().st_mtime_ns
        assert main(["run"]) == 0  # nothing changed: nothing materialized, file and report untouched
        assert build.published.stat().st_mtime_ns == first_build
        assert report.stat().st_mtime_ns == first_report
        yield build.published


def test_every_location_moved_out_of_the_project(snapshot_build: SessionBuild) -> None:
    assert snapshot_build.data_changes == {}
    con = duckdb.connect(str(snapshot_build.published), read_only=True)
    tables = {name for (name,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    contract = {doc.name for doc in dictionary.published_tables()}
    assert contract <= tables
    assert {p.stem for p in (snapshot_build.published.parent / "parquet").glob("*.parquet")} >= contract
    # every file was read from the moved snapshot (the warehouse's raw_* tables keep each file's local path)
    warehouse = duckdb.connect(str(snapshot_build.warehouse), read_only=True)
    listed = "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw_%'"
    raw_tables = [t for (t,) in warehouse.sql(listed).fetchall()]
    paths = {p for t in raw_tables for (p,) in warehouse.sql(f'SELECT path FROM "{t}"').fetchall()}
    warehouse.close()
    with (snapshot_build.snapshot / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        manifest = {str(snapshot_build.snapshot / row["path"]) for row in csv.DictReader(handle)}
    datasets = {"ods", "staff_survey", "ae", "rtt", "cancer", "sickness", "engagement_panel", "trust_context"}
    assert set(raw_tables) == {f"raw_{d}" for d in datasets} and paths and paths <= manifest
    instance = dg.DagsterInstance.from_config(str(snapshot_build.dagster_home))
    try:  # the runs were kept in the moved instance
        assert instance.get_runs(limit=1)
    finally:
        instance.dispose()


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
        "SELECT round(score, 9) FROM people_promise_scores WHERE org_code = 'RBN' AND measure_id = 'PP1' "
        "AND survey_year = 2024"
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


# NSS24 organisational workbook, Benchmarking group column: trust rows per group (data-sources.md §3.4)
NSS24_TRUST_GROUPS = {
    "Acute and Acute & Community Trusts": 122,
    "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts": 50,
    "Community Trusts": 14,
    "Acute Specialist Trusts": 13,
    "Ambulance Trusts": 11,
}


def test_published_index_ranks_every_2024_trust_within_its_group(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    groups = con.sql(
        "SELECT benchmarking_group, count(*), sum(ranked::INT), max(n_in_group), min(n_in_group) FROM readiness_index "
        "WHERE survey_year = 2024 GROUP BY 1"
    ).fetchall()
    assert {g: (n, ranked, high, low) for g, n, ranked, high, low in groups} == {
        g: (n, n, n, n) for g, n in NSS24_TRUST_GROUPS.items()
    }
    # every ranked trust has an index interval and a rank interval inside 1..n_in_group, around its point
    assert con.sql(
        "SELECT count(*) FROM readiness_index WHERE ranked AND NOT (index_lo <= index_score "
        "AND index_score <= index_hi AND 1 <= rank_lo AND rank_lo <= rank_in_group AND rank_in_group <= rank_hi "
        "AND rank_hi <= n_in_group)"
    ).fetchall() == [(0,)]
    # 2021-2023 rest on the extract's 18 questions: listed with their index and interval, but not ranked
    unranked = con.sql(
        "SELECT survey_year, count(*), count(rank_in_group), count(rank_lo), count(index_lo), max(coverage) "
        "FROM readiness_index WHERE NOT ranked GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [row[:5] for row in unranked] == [(2021, 217, 0, 0, 217), (2022, 215, 0, 0, 215), (2023, 213, 0, 0, 213)]
    assert all(row[5] < 0.6 for row in unranked)
    assert con.sql("SELECT count(*) FROM readiness_index WHERE survey_year < 2024 AND ranked").fetchall() == [(0,)]
    # the support types of Constructive comfort, from the weakest barrier, where the advice holds (issue 14)
    suggested = "SELECT DISTINCT suggested_support_type FROM readiness_index WHERE suggested_support_type IS NOT NULL"
    assert {t for (t,) in con.sql(suggested).fetchall()} == {
        "Type 1: prod organisations",
        "Type 2: proactive support",
        "Type 3: people-focused",
    }


def _weights(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float]]:
    return {
        i: (f, w) for i, f, w in con.sql("SELECT indicator_id, factor_id, weight FROM indicator_catalogue").fetchall()
    }


def test_published_scores_recompute_from_the_published_indicators(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    weights = _weights(con)
    # NSS24 organisational workbook, sheet 'YOUR JOB Q1-3', row 115 (RGT), q3i % Agree (CB) 28.440511357 and
    # % Strongly agree (CC) 8.32082666: the favourable share, used in every year because 2021-2023 have only it
    (raw, value_type) = con.sql(
        "SELECT raw_value, value_type FROM indicators WHERE org_code = 'RGT' AND survey_year = 2024 "
        "AND indicator_id = 'enough_staff'"
    ).fetchall()[0]
    assert raw == pytest.approx(28.440511357 + 8.32082666, abs=1e-9) and value_type == "pct_favourable"
    # its z-score among the 122 acute trusts of 2024, recomputed with the population SD
    peers = [
        v
        for (v,) in con.sql(
            "SELECT raw_value FROM indicators WHERE survey_year = 2024 AND indicator_id = 'enough_staff' "
            "AND benchmarking_group = 'Acute and Acute & Community Trusts'"
        ).fetchall()
    ]
    assert len(peers) == 122
    (norm,) = con.sql(
        "SELECT norm_score FROM indicators WHERE org_code = 'RGT' AND survey_year = 2024 "
        "AND indicator_id = 'enough_staff'"
    ).fetchall()[0]
    assert norm == pytest.approx((raw - statistics.fmean(peers)) / statistics.pstdev(peers), abs=1e-9)
    # factor 6 of RGT: the weighted mean of its normalised indicators, coverage the share of the factor's weight
    rows = con.sql(
        "SELECT indicator_id, norm_score FROM indicators WHERE org_code = 'RGT' AND survey_year = 2024 "
        "AND norm_score IS NOT NULL"
    ).fetchall()
    factor_6 = [(weights[i][1], z) for i, z in rows if weights[i][0] == 6]
    total_6 = sum(w for f, w in weights.values() if f == 6)
    score, coverage = con.sql(
        "SELECT score, coverage FROM factor_scores WHERE org_code = 'RGT' AND survey_year = 2024 AND factor_id = 6"
    ).fetchall()[0]
    assert score == pytest.approx(sum(w * z for w, z in factor_6) / sum(w for w, _ in factor_6), abs=1e-12)
    assert coverage == pytest.approx(sum(w for w, _ in factor_6) / total_6, abs=1e-12) and coverage == 1.0
    # the index: the weighted mean of the seven factor scores, factors 5 and 6 at 2.5 and the others at 1 (factors.csv)
    factors = [
        s
        for (s,) in con.sql(
            "SELECT score FROM factor_scores WHERE org_code = 'RGT' AND survey_year = 2024 ORDER BY factor_id"
        ).fetchall()
    ]
    (index,) = con.sql(
        "SELECT index_score FROM readiness_index WHERE org_code = 'RGT' AND survey_year = 2024"
    ).fetchall()[0]
    factor_weights = [1, 1, 1, 1, 2.5, 2.5, 1]
    assert len(factors) == 7
    weighted_sum = sum(w * s for w, s in zip(factor_weights, factors, strict=True))
    assert index == pytest.approx(weighted_sum / sum(factor_weights), abs=1e-12)


def test_published_coverage_and_unmeasured_factors(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    weights = _weights(con)
    totals: dict[int, float] = {}
    for factor, weight in weights.values():
        if factor is None:
            continue
        totals[factor] = totals.get(factor, 0.0) + weight
    present: dict[tuple[str, int, int], float] = {}
    for org, year, indicator in con.sql(
        "SELECT org_code, survey_year, indicator_id FROM indicators WHERE norm_score IS NOT NULL"
    ).fetchall():
        factor, weight = weights[indicator]
        if factor is None:  # a barrier's own indicator (barrier_indicators.csv)
            continue
        present[(org, year, factor)] = present.get((org, year, factor), 0.0) + weight
    published_coverage = con.sql(
        "SELECT org_code, survey_year, factor_id, coverage, score FROM factor_scores"
    ).fetchall()
    for org, year, factor, coverage, score in published_coverage:
        assert coverage == pytest.approx(present.get((org, year, factor), 0.0) / totals[factor], abs=1e-12)
        # a factor without data is null, never a filled-in 0; below min_factor_coverage (0.3) it is null too
        assert (score is None) == (coverage < 0.3)
    # offline 2021-2023 factors 3 (execution) and 5 (feedback) have no indicator; 2024 has every factor measured
    not_measured = con.sql(
        "SELECT survey_year, factor_id, count(*) FROM factor_scores WHERE status = 'not measured' "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert {(y, f) for y, f, _ in not_measured} == {(y, f) for y in (2021, 2022, 2023) for f in (3, 5)}
    # 2023: q13 and q14 are flagged not comparable with 2024 (the PP4 data-collection issue), so they are left out
    assert con.sql(
        "SELECT count(*) FROM indicators WHERE survey_year = 2023 AND indicator_id LIKE 'no_bullying%'"
    ).fetchall() == [(0,)]
    # 2024 index coverage: RGT lacks only RTT and cancer (no 2024-25 months offline), 1 of factor 3's 7.5 weight
    # (6 survey, A&E Type 1, RTT and cancer 0.5 each); its context indicators are all there. Factors 5 and 6 weigh
    # 2.5 and the others 1: (4 + 2 x 2.5 + 6.5 / 7.5) / 10
    (acute_coverage,) = con.sql(
        "SELECT coverage FROM readiness_index WHERE org_code = 'RGT' AND survey_year = 2024"
    ).fetchall()[0]
    assert acute_coverage == pytest.approx((4 + 2 * 2.5 + 6.5 / 7.5) / 10, abs=1e-12)


def test_published_validity_sensitivity_and_change(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    outcomes = {
        measure: (subject, n, estimate, note)
        for measure, subject, n, estimate, note in con.sql(
            "SELECT subject_b, subject, n, estimate, note FROM index_validity "
            "WHERE validity_check = 'outcome_association' AND period = '2024'"
        ).fetchall()
    }
    # survey 2024 joins 2024-25; offline RTT exists only for April 2026, so that association is not estimable
    assert outcomes["rtt_within_18w_pct"][1:3] == (0, None)
    assert "no rtt_within_18w_pct for financial year 2024-25" in outcomes["rtt_within_18w_pct"][3]
    # sickness absence is also an indicator (factor 6): tested against the index without it
    assert outcomes["sickness_absence_pct"][0] == "readiness_index_without_outcome"
    assert outcomes["sickness_absence_pct"][1] > 150 and outcomes["ae_4hr_pct_all"][1] > 100
    published_beta = con.sql(
        "SELECT estimate, published_estimate, n FROM index_validity WHERE validity_check = 'engagement_shmi' "
        "AND statistic = 'beta_given_prior_shmi_weighted' AND period = '2012-2018'"
    ).fetchall()
    assert [(round(e, 3), p) for e, p, _ in published_beta] == [(-0.044, -0.044)]
    # five alternative method scenarios for every ranked 2024 trust
    assert con.sql(
        "SELECT count(DISTINCT scenario), count(*) FROM index_sensitivity WHERE sensitivity_kind = 'method'"
    ).fetchall() == [(5, 5 * 210)]
    # year-on-year change on the indicators both years share, for trusts in the same group both years
    assert con.sql("SELECT DISTINCT previous_year, survey_year FROM readiness_change ORDER BY 1").fetchall() == [
        (2021, 2022),
        (2022, 2023),
        (2023, 2024),
    ]
    assert con.sql(
        "SELECT count(*) FROM readiness_change WHERE NOT (change_lo <= change AND change <= change_hi)"
    ).fetchall() == [(0,)]
