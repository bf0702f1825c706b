"""The performance datasets in Dagster: partitions, the snapshot manifest, a build on a private snapshot
(a month whose file is missing, a revised file replacing its month, a broken file)."""

import dataclasses
import json

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipeline.definitions import defs
from pipeline.partitions import PARTITIONED_DATASETS
from pipeline.progress import ProgressReporter
from pipeline.runner import PlannedRun, execute_plan, plan_full_build
from pipeline.settings import SNAPSHOT_DIR
from pipeline.sources import read_manifest, sha256_of
from tests.corpus.breakers import lines_edited
from tests.helpers.performance import definitions_on, manifest_rows, private_snapshot

PERFORMANCE = {"ae": "ae_monthly", "rtt": "rtt_monthly", "cancer": "cancer_monthly", "sickness": "sickness_monthly"}


def test_each_dataset_job_selects_only_its_own_monthly_assets() -> None:
    for dataset in (d for d in PARTITIONED_DATASETS if d.dataset in PERFORMANCE):
        selected = defs.resolve_job_def(dataset.job_name).asset_layer.selected_asset_keys
        assert {k.to_user_string() for k in selected} == {f"raw_{dataset.dataset}", PERFORMANCE[dataset.dataset]}
        assert isinstance(dataset.partitions_def, dg.DynamicPartitionsDefinition)


def test_snapshot_manifest_lists_every_month_with_its_checksum() -> None:
    rows = [r for r in read_manifest(str(SNAPSHOT_DIR)) if r["dataset"] in PERFORMANCE]
    periods = {
        (r["dataset"], r["product"]): sorted(
            x["period"] for x in rows if (x["dataset"], x["product"]) == (r["dataset"], r["product"])
        )
        for r in rows
    }
    assert len(periods[("ae", "monthly_csv")]) == 15 and periods[("ae", "monthly_csv")][0] == "2024-04-01"
    assert periods[("sickness", "monthly_csv")][-1] == "2025-03-01" and len(periods[("sickness", "monthly_csv")]) == 12
    assert periods[("rtt", "full_extract_zip")] == ["2026-04-01"]
    assert periods[("cancer", "combined_workbook")] == ["2026-01-01"]
    assert periods[("cancer", "provider_workbook")] == ["2025-04-01"]
    for row in rows:
        assert sha256_of(SNAPSHOT_DIR / row["path"]) == row["sha256"], row["path"]
        assert row["official_url"].startswith("https://") and row["licence"] == "OGL v3"
    renamed = {r["path"].rsplit("/", 1)[1]: r["official_name"] for r in rows}
    assert renamed["ae_activity_2024-04.csv"] == "Monthly-AE-April-2024-revised.csv"
    assert renamed["APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL (2).xlsx"].endswith("PROVISIONAL.xlsx")


def _without_rth(lines: list[str]) -> list[str]:
    """SYNTHETIC pre-revision copy: the real July 2024 revised file without RTH's row (and its TOTAL footer
    lowered to match), standing in for the first July load that the revised file replaces."""
    rth = next(line for line in lines if ",RTH," in line).split(",")
    total = lines[-1].split(",")
    total[4:] = [str(int(t) - int(r)) for t, r in zip(total[4:], rth[4:], strict=True)]
    return [line for line in lines[:-1] if ",RTH," not in line] + [",".join(total)]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("performance")
    july = manifest_rows(dataset="ae", period="2024-07-01")[0]
    first_july = lines_edited(SNAPSHOT_DIR / july["path"], root / "first-july.csv", _without_rth)
    rows = [
        *manifest_rows(dataset="ods", period="2026"),
        *manifest_rows(dataset="staff_survey", period="2023"),  # organisations needs one survey year
        *manifest_rows(product="engagement_shmi_panel"),  # bundled in every source mode, read by index_validity
        *manifest_rows(dataset="ae", period="2024-06-01"),
        {**july, "source": str(first_july)},
        {**manifest_rows(dataset="ae", period="2024-08-01")[0], "missing": "yes"},
        *manifest_rows(dataset="sickness", period="2024-04-01"),
        *manifest_rows(dataset="sickness", period="2024-05-01"),
    ]
    snapshot = private_snapshot(root / "snapshot", rows)
    definitions = definitions_on(snapshot, root / "out")
    outcome = execute_plan(
        definitions, plan_full_build(definitions), ProgressReporter(), dg.DagsterInstance.ephemeral()
    )
    return {
        "root": root,
        "rows": rows,
        "defs": definitions,
        "outcome": outcome,
        "warehouse": root / "out" / "work" / "warehouse.duckdb",
        "published": root / "out" / "published" / "nhs_change_readiness.duckdb",
    }


def test_missing_month_is_skipped_and_the_rest_published(build) -> None:
    outcome = build["outcome"]
    assert outcome.ok, outcome.failed
    assert [(p.label, "missing" in reason) for p, reason in outcome.skipped] == [("ae 2024-08", True)]
    con = duckdb.connect(str(build["published"]), read_only=True)
    months = con.sql("SELECT dataset, count(DISTINCT period_month) FROM performance_monthly GROUP BY 1 ORDER BY 1")
    assert months.fetchall() == [("ae", 2), ("sickness", 2)]
    # nhs_sickness_absence_2024-04.csv row 117, RTH: 15590.89496 FTE days lost of 408741.44638 available
    rth = con.sql(
        "SELECT numerator, denominator, value, source_file FROM performance_monthly "
        "WHERE org_code = 'RTH' AND measure = 'sickness_absence_pct' AND period_month = DATE '2024-04-01'"
    ).fetchall()
    assert rth == [
        (
            15590.89496,
            408741.44638,
            pytest.approx(100 * 15590.89496 / 408741.44638),
            "NHS Sickness Absence rates CSV, April 2024.csv",
        )
    ]
    # financial year 2024-25 from two months: sums of numerators and denominators, not a mean of the two rates
    annual = (
        con.sql(
            "SELECT financial_year, financial_year_start, months_covered, numerator, denominator, value "
            "FROM performance_annual WHERE org_code = 'RTH' AND measure = 'sickness_absence_pct'"
        )
        .pl()
        .row(0, named=True)
    )
    may = con.sql(
        "SELECT numerator, denominator FROM performance_monthly WHERE org_code = 'RTH' "
        "AND measure = 'sickness_absence_pct' AND period_month = DATE '2024-05-01'"
    ).fetchall()[0]
    assert (annual["financial_year"], annual["financial_year_start"], annual["months_covered"]) == ("2024-25", 2024, 2)
    assert annual["numerator"] == pytest.approx(15590.89496 + may[0])
    assert annual["value"] == pytest.approx(100 * (15590.89496 + may[0]) / (408741.44638 + may[1]))
    # unmatched providers are listed, not dropped: a walk-in centre in A&E, an ICB in sickness absence
    unmatched = con.sql("SELECT dataset, reported_org_code FROM performance_unmatched").fetchall()
    assert ("ae", "Y02615") in unmatched or ("ae", "NTV0B") in unmatched
    assert any(d == "sickness" and code.startswith("Q") for d, code in unmatched)
    assert con.sql("SELECT count(*) FROM performance_measures").fetchall() == [(10,)]


def test_revised_file_replaces_its_month_and_a_broken_file_changes_nothing(build) -> None:
    warehouse = build["warehouse"]

    def july() -> pl.DataFrame:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            return con.sql("SELECT * FROM ae_monthly WHERE period_month = DATE '2024-07-01'").pl()
        finally:
            con.close()

    assert "RTH" not in set(july()["reported_org_code"])
    # the publisher re-issues July as Monthly-AE-July-2024-revised.csv: the real file replaces the first load
    rows = [{k: v for k, v in r.items() if k != "source"} for r in build["rows"]]
    snapshot = private_snapshot(build["root"] / "snapshot", rows)
    definitions = definitions_on(snapshot, build["root"] / "out")
    plan = [PlannedRun("reference_job", "reference"), PlannedRun("ae_job", "ae 2024-07", "2024-07-01")]
    outcome = execute_plan(definitions, plan, ProgressReporter(), dg.DagsterInstance.ephemeral())
    assert outcome.ok, outcome.failed
    revised = july()
    assert revised.height == 594 and "RTH" in set(revised["reported_org_code"])  # 198 providers × 3 measures
    assert revised.select("reported_org_code", "measure").is_unique().all()

    # a broken June file fails its partition, naming file, row and column; stored months and the published file stay
    published_before = build["published"].read_bytes()
    june = manifest_rows(dataset="ae", period="2024-06-01")[0]
    broken = lines_edited(
        SNAPSHOT_DIR / june["path"],
        build["root"] / "broken-june.csv",
        lambda ls: [*ls[:9], ls[9].replace(",0,", ",-4,", 1), *ls[10:]],
    )
    rows = [{**r, "source": str(broken)} if r.get("period") == "2024-06-01" else r for r in rows]
    definitions = definitions_on(private_snapshot(build["root"] / "snapshot", rows), build["root"] / "out")
    plan = [
        PlannedRun("reference_job", "reference"),
        PlannedRun("ae_job", "ae 2024-06", "2024-06-01"),
        PlannedRun("downstream_job", "downstream"),
    ]
    outcome = execute_plan(definitions, plan, ProgressReporter(), dg.DagsterInstance.ephemeral())
    assert not outcome.ok
    planned, reason = outcome.failed
    assert planned.label == "ae 2024-06"
    assert "InputDataError: file 'Monthly-AE-June-2024 copy.csv', row 10, column" in reason and "is negative" in reason
    assert july().equals(revised)
    assert build["published"].read_bytes() == published_before


def test_expectation_suites_pass_on_real_rows_and_name_a_bad_one(build) -> None:
    from pipeline.gx_validate import validate_frame

    con = duckdb.connect(str(build["warehouse"]), read_only=True)
    try:
        # June: the month no other test reloads (July's RTH row arrives only with the revised file)
        staged = con.sql("SELECT * FROM ae_monthly WHERE period_month = DATE '2024-06-01' ORDER BY ALL").df()
        monthly = con.sql("SELECT * FROM performance_monthly ORDER BY ALL").df()
    finally:
        con.close()
    keys = ["period_month", "reported_org_code", "measure"]
    assert validate_frame(staged, "ae_monthly", keys).passed
    assert validate_frame(monthly, "performance_monthly", ["org_code", "period_month", "measure"]).passed
    # SYNTHETIC corruption of one real row: a numerator above its denominator and an unknown measure
    rth = staged.index[(staged["reported_org_code"] == "RTH") & (staged["measure"] == "ae_4hr_pct_all")][0]
    staged.loc[rth, "numerator"] = staged.loc[rth, "denominator"] + 1
    staged.loc[staged.index[0], "measure"] = "ae_4hr_pct_typo"
    result = validate_frame(staged, "ae_monthly", keys)
    failed = {f.expectation: f for f in result.failures}
    assert not result.passed
    assert failed["expect_column_pair_values_a_to_be_greater_than_b"].rows[0]["reported_org_code"] == "RTH"
    assert "expect_column_values_to_be_in_set" in failed
    # the asset check records each failure, its columns and its rows' keys as JSON metadata
    recorded = json.loads(json.dumps([dataclasses.asdict(f) for f in result.failures]))
    pair = next(f for f in recorded if f["expectation"] == "expect_column_pair_values_a_to_be_greater_than_b")
    assert pair["column"] == "denominator, numerator"
    assert pair["rows"][0]["period_month"] == "2024-06-01"


def test_england_check_blocks_publication_when_providers_do_not_add_up(build) -> None:
    """SYNTHETIC edit of a real file: June 2024's TOTAL footer claims one more type 1 attendance than its rows."""

    def inflate_total(lines: list[str]) -> list[str]:
        total = lines[-1].split(",")
        total[4] = str(int(total[4]) + 1)
        return [*lines[:-1], ",".join(total)]

    published_before = build["published"].read_bytes()
    june = manifest_rows(dataset="ae", period="2024-06-01")[0]
    edited = lines_edited(SNAPSHOT_DIR / june["path"], build["root"] / "june-total.csv", inflate_total)
    rows = [{**r, "source": str(edited)} if r.get("period") == "2024-06-01" else r for r in build["rows"]]
    definitions = definitions_on(private_snapshot(build["root"] / "snapshot", rows), build["root"] / "out")
    plan = [
        PlannedRun("reference_job", "reference"),
        PlannedRun("ae_job", "ae 2024-06", "2024-06-01"),
        PlannedRun("downstream_job", "downstream"),
    ]
    reporter = ProgressReporter()
    outcome = execute_plan(definitions, plan, reporter, dg.DagsterInstance.ephemeral())
    assert not outcome.ok and outcome.failed[0].label == "ae 2024-06"
    assert any(
        text.startswith("ae_monthly_england_matches_file_total: 2 measure(s) differ") for text in reporter.failed_checks
    )
    assert build["published"].read_bytes() == published_before
