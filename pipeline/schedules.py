"""The monthly refresh: on the 15th, fetch the newest published month of every performance dataset, re-check the
months the publishers revise, and rebuild what reads them, as ordinary asset runs.

`monthly_refresh` (a schedule) requests, per dataset, one single-run range over the months that are new or
changed (in web mode the ingest assets fetch every revisable month, since only fetching tells whether a file
changed), and the reference data first when it is stale. `monthly_refresh_downstream` (a sensor) waits until every
run of that tick has finished; if one failed it stops, so nothing is published from a half-refreshed warehouse;
otherwise it requests what is now stale: a dataset's months whose fetched files changed, then one run of the stale
tables that read every month, up to publication. Every run goes through the instance's run queue, which starts one
at a time (DuckDB allows one writer). Staleness is Dagster's, as for `nhs-readiness run` (pipeline/staleness.py).
"""

import json
from collections.abc import Iterable
from datetime import date, datetime

import dagster as dg
from dagster._core.definitions.assets.job.asset_job import IMPLICIT_ASSET_JOB_NAME

from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB
from pipeline.partitions import PARTITIONED_DATASETS, PERFORMANCE_SOURCES, add_partitions
from pipeline.planning import stale_ranges
from pipeline.resources import SourceMode, SourceResource
from pipeline.staleness import Staleness

CRON = "0 6 15 * *"  # 06:00 on the 15th: after the second-Thursday publications of every dataset
REFRESH_TAG = "nhs_readiness/refresh"  # the tick a run belongs to, on every run of one refresh
TRIGGER_TAG = "nhs_readiness/trigger"
# a dataset's changed months are requested at most this often after the tick's own runs (web mode: once)
MAX_FOLLOW_UP_ROUNDS = 2
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


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


def _keys(repository: dg.RepositoryDefinition, job_name: str) -> set[dg.AssetKey]:
    return set(repository.get_job(job_name).asset_layer.selected_asset_keys)


def _request(
    refresh: str, name: str, assets: Iterable[dg.AssetKey], mode: SourceMode, tags: dict[str, str] | None = None
) -> dg.RunRequest:
    """A run of some assets, tagged with the refresh it belongs to; `name` makes its run key unique."""
    return dg.RunRequest(
        run_key=f"{refresh}:{name}",
        asset_selection=sorted(assets),
        tags={TRIGGER_TAG: "schedule", REFRESH_TAG: refresh, **(tags or {})},
        run_config={"resources": {"source": {"config": {"mode": mode}}}},
    )


def dataset_requests(
    repository: dg.RepositoryDefinition,
    instance: dg.DagsterInstance,
    refresh: str,
    mode: SourceMode,
    months: dict[str, list[str]],
    *,
    always: set[dg.AssetKey] = frozenset(),  # type: ignore[assignment]
    unavailable: dict[str, dict[str, str]] | None = None,
    round_name: str = "",
) -> list[dg.RunRequest]:
    """One run per range of a dataset's wanted months whose assets are stale (or run every time)."""
    staleness = Staleness(repository.asset_graph, instance)
    requests = []
    for dataset in (d for d in PARTITIONED_DATASETS if months.get(d.dataset)):
        gone = (unavailable or {}).get(dataset.dataset, {})
        wanted = [k for k in months[dataset.dataset] if k not in gone]
        order = dataset.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
        keys = _keys(repository, dataset.job_name)
        for span in stale_ranges(staleness, keys, order, wanted, always & keys):
            requests.append(
                _request(refresh, f"{dataset.dataset}:{span.first}{round_name}", span.assets, mode, span.tags())
            )
    return requests


def refresh_schedule(cron: str, source_mode: SourceMode, name: str = "monthly_refresh") -> dg.ScheduleDefinition:
    """The refresh schedule; tests bring the cron forward and read the bundled snapshot (no internet)."""

    @dg.schedule(
        name=name,
        cron_schedule=cron,
        # Dagster's own asset job, the one the UI launches materializations and backfills with: it holds every
        # asset whatever its partitions, and each request selects the assets and range it runs
        job_name=IMPLICIT_ASSET_JOB_NAME,
        execution_timezone="Europe/London",
        description="On the 15th: fetch the newest published month of A&E, RTT, cancer and sickness absence "
        f"({source_mode} source), re-check the months publishers revise, and rebuild what reads them "
        "(monthly_refresh_downstream requests the rest once these runs succeed).",
    )
    def _refresh(context: dg.ScheduleEvaluationContext, source: SourceResource) -> dg.RunRequest | list | dg.SkipReason:
        from assets.ingest.source_files import record_observations

        instance, repository = context.instance, context.repository_def
        assert repository is not None
        if instance.get_runs(dg.RunsFilter(tags={TRIGGER_TAG: "schedule"}, statuses=UNFINISHED), limit=1):
            return dg.SkipReason("the previous refresh is still running")
        tick = context.scheduled_execution_time or datetime.now()
        refresh = f"{tick:%Y-%m-%dT%H:%M}"
        months = months_to_refresh(tick.date())
        always: set[dg.AssetKey] = set()
        unavailable: dict[str, dict[str, str]] = {}
        if source_mode == "snapshot":
            # observing the snapshot is cheap: it fills the partitions and records changed files
            unavailable = record_observations(instance, source).unavailable
            listed = {
                d.dataset: set(d.partitions_def.get_partition_keys(dynamic_partitions_store=instance))
                for d in PARTITIONED_DATASETS
            }
            months = {d: [m for m in wanted if m in listed.get(d, set())] for d, wanted in months.items()}
        else:
            # the publishers' calendars say these months are out; fetching each tells whether its file changed
            always = {k for k in repository.asset_graph.get_all_asset_keys() if k.path[-1].startswith("raw_")}
            for dataset in PARTITIONED_DATASETS:
                add_partitions(instance, dataset, months.get(dataset.dataset, []))
        staleness = Staleness(repository.asset_graph, instance)
        reference = _keys(repository, REFERENCE_JOB)
        requests = []
        if stale := staleness.reasons(reference, None, always & reference):
            requests.append(_request(refresh, "reference", stale, source_mode))
        requests += dataset_requests(
            repository, instance, refresh, source_mode, months, always=always, unavailable=unavailable
        )
        if not requests:
            return dg.SkipReason(
                f"nothing new or changed in {', '.join(f'{d} {m[-1][:7]}' for d, m in months.items() if m)}"
            )
        return requests

    return _refresh


monthly_refresh = refresh_schedule(CRON, "web")


def follow_up_sensor(
    source_mode: SourceMode, name: str = "monthly_refresh_downstream", minimum_interval_seconds: int = 30
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job_name=IMPLICIT_ASSET_JOB_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After the runs of a monthly_refresh tick have all succeeded: the months whose fetched files "
        "changed, then one run of the stale tables that read every month, up to publication. A failed run of the "
        "tick stops the refresh: the published file stays as it was.",
    )
    def _follow_up(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        instance, repository = context.instance, context.repository_def
        assert repository is not None
        state = json.loads(context.cursor) if context.cursor else {}
        latest = instance.get_runs(dg.RunsFilter(tags={TRIGGER_TAG: "schedule"}), limit=1)
        refresh = latest[0].tags.get(REFRESH_TAG) if latest else None
        if refresh is None or state.get("done") == refresh:
            return dg.SkipReason("no refresh to follow up")
        runs = instance.get_runs(dg.RunsFilter(tags={REFRESH_TAG: refresh}))
        if not all(run.is_finished for run in runs):
            return dg.SkipReason(f"waiting for the runs of refresh {refresh}")
        if failed := [run for run in runs if run.status != dg.DagsterRunStatus.SUCCESS]:
            context.log.warning(
                f"refresh {refresh}: run {failed[0].run_id} did not succeed; nothing downstream rebuilt"
            )
            return dg.SensorResult(skip_reason="a run of the refresh failed", cursor=json.dumps({"done": refresh}))
        rounds = state.get("rounds", 0) if state.get("refresh") == refresh else 0
        months = months_to_refresh(date.fromisoformat(refresh[:10]))
        if rounds < MAX_FOLLOW_UP_ROUNDS and (
            requests := dataset_requests(
                repository, instance, refresh, source_mode, months, round_name=f":follow-up-{rounds + 1}"
            )
        ):
            return dg.SensorResult(run_requests=requests, cursor=json.dumps({"refresh": refresh, "rounds": rounds + 1}))
        stale = Staleness(repository.asset_graph, instance).reasons(_keys(repository, DOWNSTREAM_JOB), None)
        requests = [_request(refresh, "downstream", stale, source_mode)] if stale else []
        return dg.SensorResult(run_requests=requests, cursor=json.dumps({"done": refresh}))

    return _follow_up


monthly_refresh_downstream = follow_up_sensor("web")


def all_schedules() -> list[dg.ScheduleDefinition]:
    return [monthly_refresh]


def all_sensors() -> list[dg.SensorDefinition]:
    return [monthly_refresh_downstream]
