"""Partitions as Dagster sees them: a dataset's months materialize in one run (a single-run backfill), a month the
source cannot supply is reported and skipped without being recorded, and the partitions offered are exactly the
periods the source lists."""

import csv
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from assets.ingest.source_files import record_observations, source_assets
from pipeline.definitions import build_definitions
from pipeline.partition_events import UNAVAILABLE
from pipeline.partitions import PARTITIONED_DATASETS
from pipeline.progress import ProgressReporter
from pipeline.runner import PlannedRun, execute_plan
from pipeline.settings import SNAPSHOT_DIR
from tests.helpers.performance import definitions_on, manifest_rows, private_snapshot

RAW, STAGED = dg.AssetKey("raw_sickness"), dg.AssetKey("sickness_monthly")
APRIL, MAY, JUNE = "2024-04-01", "2024-05-01", "2024-06-01"


@pytest.fixture(scope="module")
def backfill(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three sickness absence months of the real snapshot, May's file gone (its manifest line kept), and one run
    over the range April to June, as the UI launches a single-run backfill."""
    root = tmp_path_factory.mktemp("backfill")
    rows = [
        *manifest_rows(dataset="ods", period="2026"),
        *manifest_rows(dataset="sickness", period=APRIL),
        {**manifest_rows(dataset="sickness", period=MAY)[0], "missing": "yes"},
        *manifest_rows(dataset="sickness", period=JUNE),
    ]
    defs = definitions_on(private_snapshot(root / "snapshot", rows), root / "out")
    instance = dg.DagsterInstance.ephemeral()
    # the reference layer (ODS trusts), which observes the sources first and so fills the partitions
    reference = execute_plan(defs, [PlannedRun("reference_job", "reference")], ProgressReporter(), instance)
    assert reference.ok, reference.failed
    result = defs.resolve_job_def("sickness_job").execute_in_process(
        instance=instance,
        asset_selection=[RAW, STAGED],
        tags={ASSET_PARTITION_RANGE_START_TAG: APRIL, ASSET_PARTITION_RANGE_END_TAG: JUNE},
        raise_on_error=False,
    )
    return {"defs": defs, "instance": instance, "result": result, "warehouse": root / "out/work/warehouse.duckdb"}


def test_a_single_run_backfill_of_three_months_with_one_missing_materializes_two_and_reports_one(backfill) -> None:
    instance: dg.DagsterInstance = backfill["instance"]  # type: ignore[assignment]
    result = backfill["result"]
    assert result.success
    assert len(instance.get_runs(dg.RunsFilter(job_name="sickness_job"))) == 1
    events = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    assert sorted((m.asset_key.path[-1], m.partition) for m in events) == [
        ("raw_sickness", APRIL),
        ("raw_sickness", JUNE),
        ("sickness_monthly", APRIL),
        ("sickness_monthly", JUNE),
    ]
    # May is not recorded as materialized: Dagster still sees it as missing
    assert instance.get_materialized_partitions(RAW) == {APRIL, JUNE}
    assert instance.get_materialized_partitions(STAGED) == {APRIL, JUNE}
    # and it is reported: a warning in the run's log, and in the metadata of the months that were built
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == 30 and MAY in e.user_message]
    assert any("raw_sickness [2024-05-01] skipped" in w and "file is missing" in w for w in warnings), warnings
    for m in events:
        if m.asset_key == RAW:
            assert list(m.metadata[UNAVAILABLE].value) == [MAY]


def test_each_month_keeps_its_own_rows_and_its_own_data_version(backfill) -> None:
    con = duckdb.connect(str(backfill["warehouse"]), read_only=True)
    try:
        months = con.sql("SELECT DISTINCT period_month::VARCHAR FROM sickness_monthly ORDER BY 1").fetchall()
        # nhs_sickness_absence_2024-04.csv row 117 and nhs_sickness_absence_2024-06.csv row 117: RTH
        rth = con.sql(
            "SELECT period_month::VARCHAR, numerator, denominator FROM sickness_monthly "
            "WHERE reported_org_code = 'RTH' AND measure = 'sickness_absence_pct' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert months == [(APRIL,), (JUNE,)]
    assert rth == [(APRIL, 15590.89496, 408741.44638), (JUNE, 15288.40234, 408339.58607)]
    instance: dg.DagsterInstance = backfill["instance"]  # type: ignore[assignment]
    versions = {
        p: instance.get_latest_data_version_record(RAW, False, p).asset_materialization.tags["dagster/data_version"]
        for p in (APRIL, JUNE)
    }
    # a raw month's data version is the checksum of that month's own file, not one shared by the range
    assert versions[APRIL] != versions[JUNE]


def test_a_build_runs_each_dataset_once_and_a_rerun_runs_nothing(tmp_path: Path) -> None:
    rows = [
        *manifest_rows(dataset="ods", period="2026"),
        *[r for r in manifest_rows(dataset="sickness") if r["period"] < "2024-07-01"],
    ]
    defs = definitions_on(private_snapshot(tmp_path / "snapshot", rows), tmp_path / "out")
    instance = dg.DagsterInstance.ephemeral()
    plan = [
        PlannedRun("reference_job", "reference"),
        PlannedRun("sickness_job", "sickness", partitions=(APRIL, MAY, JUNE)),
    ]
    cold = execute_plan(defs, plan, ProgressReporter(), instance)
    assert cold.ok and cold.runs == 2, (cold.failed, cold.runs)
    assert instance.get_materialized_partitions(STAGED) == {APRIL, MAY, JUNE}
    again = execute_plan(defs, plan, ProgressReporter(), instance)
    assert again.ok and again.runs == 0 and again.materialized == 0


def test_the_partitions_offered_are_the_periods_the_snapshot_lists() -> None:
    defs = build_definitions(source_mode="snapshot")
    instance = dg.DagsterInstance.ephemeral()
    record_observations(instance, defs.resources["source"])  # type: ignore[arg-type]
    with (SNAPSHOT_DIR / "manifest.csv").open(newline="") as handle:
        manifest = list(csv.DictReader(handle))
    graph = defs.resolve_asset_graph()
    for dataset in PARTITIONED_DATASETS:
        listed = sorted(
            {r["period"] for r in manifest if r["dataset"] == dataset.dataset and r["product"] in dataset.products}
        )
        for key in (dataset.raw_key, dg.AssetKey(f"source_{dataset.dataset}")):
            offered = graph.get(key).partitions_def.get_partition_keys(dynamic_partitions_store=instance)
            assert list(offered) == listed, (key, offered)
    ae = defs.resolve_asset_graph().get(dg.AssetKey("ae_monthly")).partitions_def
    assert len(ae.get_partition_keys(dynamic_partitions_store=instance)) == 15  # not every month since 2015
    cancer = graph.get(dg.AssetKey("cancer_monthly")).partitions_def
    assert cancer.get_partition_keys(dynamic_partitions_store=instance) == ["2025-04-01", "2026-01-01"]


def test_observing_a_source_in_dagster_fills_its_partitions() -> None:
    """What **Observe** on `source_cancer` in the UI does: the partitions become the periods the snapshot lists,
    each with its file's data version."""
    shipped = build_definitions(source_mode="snapshot")
    (source,) = [a for a in source_assets if a.key == dg.AssetKey("source_cancer")]
    job = dg.define_asset_job("observe_cancer", selection=dg.AssetSelection.assets(source.key))
    defs = dg.Definitions(assets=[source], jobs=[job], resources={"source": shipped.resources["source"]})
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("observe_cancer").execute_in_process(instance=instance)
        assert result.success
        assert instance.get_dynamic_partitions("cancer_months") == ["2025-04-01", "2026-01-01"]
        observed = {
            e.event_specific_data.asset_observation.partition
            for e in result.all_events
            if e.event_type_value == "ASSET_OBSERVATION"
        }
        assert observed == {"2025-04-01", "2026-01-01"}
