"""Run the pipeline in this process: observe the sources, then materialize only what Dagster finds stale.

The plan keeps the graph's layers (reference data, each partitioned dataset, then everything downstream); each
step runs only the assets that pipeline/staleness.py says must be rebuilt, so a rerun with nothing changed
materializes nothing and logs no materialization. A dataset's stale months run together, as one run per range
of consecutive months (pipeline/planning.py), not one run per month.
"""

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from pipeline.dagster_home import opened_project_instance
from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB
from pipeline.partition_events import UNAVAILABLE
from pipeline.partitions import PARTITIONED_DATASETS, PartitionedDataset, add_partitions, listed_partitions
from pipeline.planning import PartitionRange, stale_ranges
from pipeline.progress import ProgressReporter, progress_logger_def, root_cause
from pipeline.resources import PublishTargetResource, SourceResource
from pipeline.staleness import Staleness
from pipeline.warehouse import WarehouseResource, table_names

FORCE_ENV = "NHS_READINESS_FORCE_REBUILD"


@dataclass(frozen=True)
class PlannedRun:
    """One step of a build: an unpartitioned job, or a dataset's job over some of its partitions (`partition_key`
    for one, `partitions` for several), materialized in as few runs as its stale ranges allow."""

    job_name: str
    label: str
    partition_key: str | None = None
    partitions: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return self.partitions or ((self.partition_key,) if self.partition_key else ())


@dataclass
class BuildOutcome:
    succeeded: list[PlannedRun] = field(default_factory=list)
    skipped: list[tuple[PlannedRun, str]] = field(default_factory=list)
    unchanged: list[PlannedRun] = field(default_factory=list)
    failed: tuple[PlannedRun, str] | None = None
    materialized: int = 0
    runs: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed is None

    def current(self, job_name: str) -> bool:
        """Whether that job's assets are now built: materialized in this build or unchanged since the last."""
        return any(p.job_name == job_name for p in [*self.succeeded, *self.unchanged])


def plan_full_build(defs: dg.Definitions, years: set[int] | None = None) -> list[PlannedRun]:
    source: SourceResource = defs.resources["source"]  # type: ignore[assignment]
    defined = {name for name in (REFERENCE_JOB, *(d.job_name for d in PARTITIONED_DATASETS)) if _has_assets(defs, name)}
    plan = [PlannedRun(REFERENCE_JOB, "reference")] if REFERENCE_JOB in defined else []
    for dataset in (d for d in PARTITIONED_DATASETS if d.job_name in defined):
        keys = listed_partitions(dataset, source)
        if years is not None and dataset.dataset == "staff_survey":
            keys = [k for k in keys if int(k[:4]) in years]
        if keys:
            plan.append(PlannedRun(dataset.job_name, dataset.dataset, partitions=tuple(keys)))
    plan.append(PlannedRun(DOWNSTREAM_JOB, "downstream"))
    return plan


def _has_assets(defs: dg.Definitions, job_name: str) -> bool:
    try:
        return bool(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)
    except dg.DagsterInvariantViolationError:  # no such job: the dataset has no assets yet
        return False


def _outputs_present(defs: dg.Definitions, warehouse: WarehouseResource):
    """A check that an asset's output exists where the resources say: its warehouse table, or the published file
    and report folder."""
    target: PublishTargetResource = defs.resources["publish_target"]  # type: ignore[assignment]
    files = {
        dg.AssetKey("published_database"): target.database_path,
        dg.AssetKey("published_report"): target.directory / "report" / "index.html",
    }

    tables: set[str] = set()  # seen in the warehouse; listed again on a miss, since a run may have made it

    def present(key: dg.AssetKey) -> bool:
        if key in files:
            return files[key].exists()
        if key.path[-1] not in tables:
            with warehouse.get_connection() as con:
                tables.update(table_names(con))
        return key.path[-1] in tables

    return present


def _dataset_of(job_name: str) -> PartitionedDataset | None:
    return next((d for d in PARTITIONED_DATASETS if d.job_name == job_name), None)


@dataclass
class _Build:
    defs: dg.Definitions
    instance: dg.DagsterInstance
    reporter: ProgressReporter
    staleness: Staleness
    always: set[dg.AssetKey]
    unavailable: dict[str, dict[str, str]]
    outcome: BuildOutcome

    def execute(self, job: dg.JobDefinition, selection: Iterable[dg.AssetKey], span: PartitionRange | None):
        result = job.with_logger_defs({"progress": progress_logger_def(self.reporter)}).execute_in_process(
            instance=self.instance,
            asset_selection=sorted(selection),
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
            tags={"nhs_readiness/trigger": "cli", **(span.tags() if span else {})},
        )
        self.outcome.runs += 1
        self.outcome.materialized += len(result.get_asset_materialization_events())
        self.staleness.refresh()
        return result

    def step(self, planned: PlannedRun) -> str | None:
        """Run one planned step; None when it ran and succeeded, "unchanged", "skipped", or "failed"."""
        job = self.defs.resolve_job_def(planned.job_name)
        keys = set(job.asset_layer.selected_asset_keys)
        dataset = _dataset_of(planned.job_name)
        ran = False
        # the ingest assets that run every time go first, so that what reads them is judged on their new data
        # versions; then whatever is stale
        for subset in (keys & self.always, keys - self.always):
            if not subset:
                continue
            if dataset is None:
                selection = self.staleness.reasons(subset, None, self.always)
                spans: list[tuple[PartitionRange | None, Iterable[dg.AssetKey]]] = (
                    [(None, selection)] if selection else []
                )
            else:
                gone = self.unavailable.setdefault(dataset.dataset, {})
                wanted = [k for k in planned.keys if k not in gone]
                order = dataset.partitions_def.get_partition_keys(dynamic_partitions_store=self.instance)
                spans = [(s, s.assets) for s in stale_ranges(self.staleness, subset, order, wanted, self.always)]
            for span, selection in spans:
                ran = True
                self.reporter.label = span.label(dataset.dataset) if (span and dataset) else planned.label
                result = self.execute(job, selection, span)
                if dataset is not None and span is not None:
                    self._note_unavailable(dataset, span, result)
                if result.success:
                    continue
                causes = [root_cause(e.event_specific_data.error) for e in result.get_step_failure_events()]
                if (
                    dataset is not None
                    and span is not None
                    and causes
                    and all(cls == "SourceUnavailableError" for cls, _ in causes)
                ):
                    reason = "; ".join(message for _, message in causes)
                    self.unavailable[dataset.dataset].update({k: reason for k in span.keys})
                    continue
                reason = "; ".join(f"{cls}: {message}" for cls, message in causes)
                self.outcome.failed = (planned, reason or "; ".join(self.reporter.failed_checks) or "the run failed")
                return "failed"
        return None if ran else "unchanged"

    def _note_unavailable(self, dataset: PartitionedDataset, span: PartitionRange, result) -> None:
        """Months of the range the raw asset could not fetch: it recorded the others, and named these."""
        if dataset.raw_key not in span.assets:
            return
        for event in result.get_asset_materialization_events():
            materialization = event.event_specific_data.materialization
            if materialization.asset_key == dataset.raw_key and UNAVAILABLE in materialization.metadata:
                self.unavailable[dataset.dataset].update(materialization.metadata[UNAVAILABLE].value)


def execute_plan(
    defs: dg.Definitions,
    plan: Iterable[PlannedRun],
    reporter: ProgressReporter,
    instance: dg.DagsterInstance | None = None,
    *,
    force: bool = False,
) -> BuildOutcome:
    """Run each planned step in process, restricted to its stale assets and partitions. A period the publisher has
    no file for is reported and skipped; any other failure stops the build before publication, so the last
    published file stays as it was. Without `instance`, the project's (the one `nhs-readiness ui` shows) is opened
    and closed here."""
    warehouse: WarehouseResource = defs.resources["warehouse"]  # type: ignore[assignment]
    # opened first: when another process holds the warehouse, the build stops before it touches the instance
    with warehouse.kept_open():
        if instance is not None:
            return _execute_plan(defs, list(plan), reporter, instance, warehouse, force)
        with opened_project_instance() as opened:
            return _execute_plan(defs, list(plan), reporter, opened, warehouse, force)


def _execute_plan(
    defs: dg.Definitions,
    plan: list[PlannedRun],
    reporter: ProgressReporter,
    instance: dg.DagsterInstance,
    warehouse: WarehouseResource,
    force: bool,
) -> BuildOutcome:
    from assets.ingest.source_files import record_observations

    outcome = BuildOutcome()
    started = time.perf_counter()
    source: SourceResource = defs.resources["source"]  # type: ignore[assignment]
    # snapshot files are observed here, cheaply; in web mode observing would mean downloading, so the ingest
    # assets run every time instead (conditional requests against the cache) and give the fetched files' SHA-256
    # as their data version, from which Dagster judges everything downstream
    always = (
        set()
        if source.mode == "snapshot"
        else {k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[-1].startswith("raw_")}
    )
    unavailable: dict[str, dict[str, str]] = {}
    if source.mode == "snapshot":
        unavailable = record_observations(instance, source).unavailable
    for planned in plan:
        dataset = _dataset_of(planned.job_name)
        if dataset is not None:
            add_partitions(instance, dataset, planned.keys)
    staleness = Staleness(
        defs, instance, force=force or bool(os.environ.get(FORCE_ENV)), present=_outputs_present(defs, warehouse)
    )
    build = _Build(defs, instance, reporter, staleness, always, unavailable, outcome)
    for planned in plan:
        status = build.step(planned)
        if status == "failed":
            break
        (outcome.unchanged if status == "unchanged" else outcome.succeeded).append(planned)
    for planned in plan:
        dataset = _dataset_of(planned.job_name)
        for key in planned.keys if dataset is not None else ():
            if key in unavailable.get(dataset.dataset, {}):
                label = f"{dataset.dataset} {key[:7]}"
                outcome.skipped.append((PlannedRun(planned.job_name, label, key), unavailable[dataset.dataset][key]))
    outcome.seconds = time.perf_counter() - started
    return outcome
