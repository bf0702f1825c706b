"""Run the pipeline in this process: observe the sources, then materialize only what Dagster finds stale.

The plan keeps the graph's layers (reference data, each partitioned dataset, then everything downstream); each
step runs only the assets that pipeline/staleness.py says must be rebuilt, so a rerun with nothing changed
materializes nothing and logs no materialization.
"""

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB
from pipeline.partitions import PARTITIONED_DATASETS, PartitionedDataset
from pipeline.progress import ProgressReporter, progress_logger_def, root_cause
from pipeline.resources import PublishTargetResource, SourceResource
from pipeline.staleness import Staleness
from pipeline.warehouse import WarehouseResource, table_exists

FORCE_ENV = "NHS_READINESS_FORCE_REBUILD"


@dataclass(frozen=True)
class PlannedRun:
    job_name: str
    label: str
    partition_key: str | None = None


@dataclass
class BuildOutcome:
    succeeded: list[PlannedRun] = field(default_factory=list)
    skipped: list[tuple[PlannedRun, str]] = field(default_factory=list)
    unchanged: list[PlannedRun] = field(default_factory=list)
    failed: tuple[PlannedRun, str] | None = None
    materialized: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed is None

    def current(self, job_name: str) -> bool:
        """Whether that job's assets are now built: materialized in this build or unchanged since the last."""
        return any(p.job_name == job_name for p in [*self.succeeded, *self.unchanged])


def partitions_to_build(dataset: PartitionedDataset, source: SourceResource, years: set[int] | None) -> list[str]:
    keys = set(dataset.partitions_def.get_partition_keys())
    available = {p for product in dataset.products for p in source.available(dataset.dataset, product)}
    wanted = sorted(keys & available)
    if years is not None:
        wanted = [k for k in wanted if int(k[:4]) in years]
    return wanted


def plan_full_build(defs: dg.Definitions, years: set[int] | None = None) -> list[PlannedRun]:
    source: SourceResource = defs.resources["source"]  # type: ignore[assignment]
    defined = {name for name in (REFERENCE_JOB, *(d.job_name for d in PARTITIONED_DATASETS)) if _has_assets(defs, name)}
    plan = [PlannedRun(REFERENCE_JOB, "reference")] if REFERENCE_JOB in defined else []
    for dataset in (d for d in PARTITIONED_DATASETS if d.job_name in defined):
        for key in partitions_to_build(dataset, source, years if dataset.dataset == "staff_survey" else None):
            plan.append(PlannedRun(dataset.job_name, f"{dataset.dataset} {key[:7]}", key))
    plan.append(PlannedRun(DOWNSTREAM_JOB, "downstream"))
    return plan


def _has_assets(defs: dg.Definitions, job_name: str) -> bool:
    try:
        return bool(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)
    except dg.DagsterInvariantViolationError:  # no such job: the dataset has no assets yet
        return False


def project_instance() -> dg.DagsterInstance:
    """The instance `nhs-readiness ui` shows: DAGSTER_HOME, or the project's own beside the warehouse."""
    from pipeline import dagster_home

    return dagster_home.project_instance()


def _outputs_present(defs: dg.Definitions, warehouse: WarehouseResource):
    """A check that an asset's output exists where the resources say: its warehouse table, or the published file
    and report folder."""
    target: PublishTargetResource = defs.resources["publish_target"]  # type: ignore[assignment]
    files = {
        dg.AssetKey("published_database"): target.database_path,
        dg.AssetKey("published_report"): target.directory / "report" / "index.html",
    }

    def present(key: dg.AssetKey) -> bool:
        if key in files:
            return files[key].exists()
        with warehouse.get_connection() as con:
            return table_exists(con, key.path[-1])

    return present


def execute_plan(
    defs: dg.Definitions,
    plan: Iterable[PlannedRun],
    reporter: ProgressReporter,
    instance: dg.DagsterInstance | None = None,
    *,
    force: bool = False,
) -> BuildOutcome:
    """Run each planned step in process, restricted to its stale assets. A period the publisher has no file for is
    reported and skipped; any other failure stops the build before publication, so the last published file stays
    as it was."""
    from assets.ingest.source_files import record_observations

    outcome = BuildOutcome()
    started = time.perf_counter()
    instance = instance or project_instance()
    logger = {"progress": progress_logger_def(reporter)}
    warehouse: WarehouseResource = defs.resources["warehouse"]  # type: ignore[assignment]
    source: SourceResource = defs.resources["source"]  # type: ignore[assignment]
    # snapshot files are observed here, cheaply; in web mode observing would mean downloading, so the ingest
    # assets run every time instead (conditional requests against the cache) and give the fetched files' SHA-256
    # as their data version, from which Dagster judges everything downstream
    always = (
        set()
        if source.mode == "snapshot"
        else {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[-1].startswith("raw_")}
    )
    with warehouse.kept_open():
        if source.mode == "snapshot":
            record_observations(instance, source)
        staleness = Staleness(
            defs, instance, force=force or bool(os.environ.get(FORCE_ENV)), present=_outputs_present(defs, warehouse)
        )
        for planned in plan:
            job = defs.resolve_job_def(planned.job_name)
            keys = set(job.asset_layer.selected_asset_keys)
            reporter.label = planned.label
            ran = False
            # the ingest assets that run every time go first, so that what reads them is judged on their new data
            # versions; then whatever is stale
            for subset in (keys & always, keys - always):
                selection = staleness.reasons(subset, planned.partition_key, always) if subset else {}
                if not selection:
                    continue
                ran = True
                result = job.with_logger_defs(logger).execute_in_process(
                    instance=instance,
                    partition_key=planned.partition_key,
                    asset_selection=sorted(selection),
                    raise_on_error=False,
                    run_config={"loggers": {"progress": {}}},
                    tags={"nhs_readiness/trigger": "cli"},
                )
                outcome.materialized += len(result.get_asset_materialization_events())
                staleness.refresh()
                if not result.success:
                    break
            if not ran:
                outcome.unchanged.append(planned)
                continue
            if result.success:
                outcome.succeeded.append(planned)
                continue
            causes = [root_cause(e.event_specific_data.error) for e in result.get_step_failure_events()]
            if causes and all(cls == "SourceUnavailableError" for cls, _ in causes):
                outcome.skipped.append((planned, "; ".join(message for _, message in causes)))
                continue
            reason = "; ".join(f"{cls}: {message}" for cls, message in causes) or "; ".join(reporter.failed_checks)
            outcome.failed = (planned, reason or "the run failed")
            break
    outcome.seconds = time.perf_counter() - started
    return outcome
