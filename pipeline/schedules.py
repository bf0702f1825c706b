"""The monthly refresh: on the 15th, fetch the newest published month of every performance dataset in web mode,
re-check the months the publishers revise, and rebuild everything downstream.

A schedule's runs would start side by side, and DuckDB allows one writer, so the schedule requests a single run
of `monthly_refresh_job`. Its one op runs the same in-process plan as `nhs-readiness run` (reference layer,
each dataset month by month, then downstream and publication), restricted to the recent months. Each step is a
run of its own in the same Dagster instance, so partition status shows in the UI. Unchanged files are reused
(checksums), so re-checking a month costs a download at most; a month not yet published is skipped.
"""

from datetime import date, datetime

import dagster as dg

from pipeline.partitions import PARTITIONED_DATASETS, PERFORMANCE_SOURCES

REFRESH_OP = "refresh_recent_months"
CRON = "0 6 15 * *"  # 06:00 on the 15th: after the second-Thursday publications of every dataset


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_to_refresh(today: date) -> dict[str, list[str]]:
    """Per dataset, the newest month the publisher should have out by `today` and the months before it that
    it may still revise (publication lag and revision window: data/reference/performance_sources.csv)."""
    this_month = today.replace(day=1)
    wanted = {}
    for dataset, source in PERFORMANCE_SOURCES.items():
        newest = _add_months(this_month, -int(source["publication_lag_months"]))
        window = int(source["revision_window_months"])
        start = max(_add_months(newest, 1 - window), date.fromisoformat(source["partition_start"]))
        wanted[dataset] = [_add_months(start, i).isoformat() for i in range(window) if _add_months(start, i) <= newest]
    return wanted


class RefreshConfig(dg.Config):
    source_mode: str = "web"
    months: dict[str, list[str]]


@dg.op(name=REFRESH_OP, description="Fetch, stage and publish the requested months of each performance dataset.")
def refresh_recent_months(context: dg.OpExecutionContext, config: RefreshConfig) -> dict[str, object]:
    # imported here: the definitions module imports this one
    from pipeline.definitions import build_definitions
    from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB
    from pipeline.progress import ProgressReporter
    from pipeline.runner import PlannedRun, execute_plan, partitions_to_build

    defs = build_definitions(source_mode=config.source_mode)  # type: ignore[arg-type]
    source = defs.resources["source"]
    plan = [PlannedRun(REFERENCE_JOB, "reference")]
    for dataset in PARTITIONED_DATASETS:
        requested = set(config.months.get(dataset.dataset, []))
        if requested:
            available = partitions_to_build(dataset, source, None)  # type: ignore[arg-type]
            plan += [PlannedRun(dataset.job_name, f"{dataset.dataset} {k[:7]}", k) for k in available if k in requested]
    plan.append(PlannedRun(DOWNSTREAM_JOB, "downstream"))
    outcome = execute_plan(defs, plan, ProgressReporter(), instance=context.instance)
    for planned, reason in outcome.skipped:
        context.log.warning(f"skipped {planned.label}: {reason}")
    if not outcome.ok:
        planned, reason = outcome.failed  # type: ignore[misc]
        raise dg.Failure(f"{planned.label} failed, nothing was published: {reason}")
    return {
        "built": [p.label for p in outcome.succeeded],
        "skipped": [p.label for p, _ in outcome.skipped],
    }


@dg.job(
    name="monthly_refresh_job",
    description="The monthly refresh: newest and revisable months of every performance dataset, then downstream.",
    executor_def=dg.in_process_executor,
)
def monthly_refresh_job() -> None:
    refresh_recent_months()


@dg.schedule(
    job=monthly_refresh_job,
    cron_schedule=CRON,
    execution_timezone="Europe/London",
    description="On the 15th: fetch the newest published month of A&E, RTT, cancer and sickness absence in web mode, "
    "reload the months publishers revise, and rebuild and publish everything downstream.",
)
def monthly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time or datetime.now()
    months = months_to_refresh(tick.date())
    return dg.RunRequest(
        run_key=f"monthly_refresh:{tick:%Y-%m-%d}",
        run_config={"ops": {REFRESH_OP: {"config": {"source_mode": "web", "months": months}}}},
        tags={
            "nhs_readiness/trigger": "schedule",
            "nhs_readiness/newest_months": ", ".join(f"{d} {m[-1][:7]}" for d, m in months.items() if m),
        },
    )


def all_schedules() -> list[dg.ScheduleDefinition]:
    return [monthly_refresh]
