"""Run the whole pipeline in this process: reference data, each partitioned dataset, then downstream."""

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB
from pipeline.partitions import PARTITIONED_DATASETS, PartitionedDataset
from pipeline.progress import ProgressReporter, progress_logger_def, root_cause
from pipeline.resources import SourceResource
from pipeline.warehouse import WarehouseResource


@dataclass(frozen=True)
class PlannedRun:
    job_name: str
    label: str
    partition_key: str | None = None


@dataclass
class BuildOutcome:
    succeeded: list[PlannedRun] = field(default_factory=list)
    skipped: list[tuple[PlannedRun, str]] = field(default_factory=list)
    failed: tuple[PlannedRun, str] | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed is None


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


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs then show in `dagster dev`), else ephemeral."""
    return dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()


def execute_plan(
    defs: dg.Definitions,
    plan: Iterable[PlannedRun],
    reporter: ProgressReporter,
    instance: dg.DagsterInstance | None = None,
) -> BuildOutcome:
    """Run each planned job in process. A period the publisher has no file for is reported and skipped;
    any other failure stops the build before publication, so the last published file stays as it was."""
    outcome = BuildOutcome()
    started = time.perf_counter()
    instance = instance or _instance()
    logger = {"progress": progress_logger_def(reporter)}
    warehouse: WarehouseResource = defs.resources["warehouse"]  # type: ignore[assignment]
    with warehouse.kept_open():
        for planned in plan:
            job = defs.resolve_job_def(planned.job_name).with_logger_defs(logger)
            reporter.label = planned.label
            result = job.execute_in_process(
                instance=instance,
                partition_key=planned.partition_key,
                raise_on_error=False,
                run_config={"loggers": {"progress": {}}},
                tags={"nhs_readiness/trigger": "cli"},
            )
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
