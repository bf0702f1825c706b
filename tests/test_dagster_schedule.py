"""The monthly refresh requests ordinary asset runs: per dataset one range over the months that are new or changed,
then (a sensor, once those runs succeeded) one run of the stale tables that read every month."""

import io
from collections.abc import Iterator
from datetime import datetime

import dagster as dg
import pytest

from pipeline.definitions import defs as shipped_defs
from pipeline.progress import ProgressReporter
from pipeline.runner import execute_plan, plan_full_build
from pipeline.schedules import (
    REFRESH_TAG,
    follow_up_sensor,
    monthly_refresh,
    months_to_refresh,
    refresh_schedule,
)
from tests.helpers.performance import definitions_on, manifest_rows, private_snapshot

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
TICK = datetime(2024, 10, 15, 6, 0)  # sickness absence: lag 4 months, 3 re-checked: April to June 2024


def test_the_shipped_schedule_requests_one_range_per_dataset_in_web_mode() -> None:
    assert monthly_refresh.cron_schedule == "0 6 15 * *"
    assert "monthly_refresh" in {s.name for s in shipped_defs.schedules}
    assert "monthly_refresh_downstream" in {s.name for s in shipped_defs.sensors}
    with dg.instance_for_test() as instance:  # a schedule's context needs an instance it can refer to
        _shipped_schedule_requests(instance)


def _shipped_schedule_requests(instance: dg.DagsterInstance) -> None:
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 12, 15, 6, 0),
        repository_def=shipped_defs.get_repository_def(),
        resources=shipped_defs.resources,
    )
    requests = monthly_refresh.evaluate_tick(context).run_requests
    by_range = {
        (r.tags.get(RANGE_START), r.tags.get(RANGE_END)): sorted(k.to_user_string() for k in r.asset_selection)
        for r in requests
    }
    # lags and revision windows from data/reference/performance_sources.csv: A&E November (1 month, 12 re-checked),
    # RTT and cancer October (2 months), sickness absence August (4 months, 3 re-checked); every month is fetched
    # (only fetching tells whether a file changed) and staged (never built in this instance)
    assert by_range[("2025-12-01", "2026-11-01")] == ["ae_monthly", "raw_ae"]
    assert by_range[("2025-11-01", "2026-10-01")] in (["raw_rtt", "rtt_monthly"], ["cancer_monthly", "raw_cancer"])
    assert by_range[("2026-06-01", "2026-08-01")] == ["raw_sickness", "sickness_monthly"]
    assert len([r for r in requests if RANGE_START in r.tags]) == 4
    (reference,) = [r for r in requests if RANGE_START not in r.tags]
    assert {k.to_user_string() for k in reference.asset_selection} >= {"raw_ods"}
    for request in requests:
        assert request.run_config == {"resources": {"source": {"config": {"mode": "web"}}}}
        assert request.tags[REFRESH_TAG] == "2026-12-15T06:00" and request.run_key.startswith("2026-12-15T06:00:")
    # the partitions the requests name now exist, so the runs can be launched
    assert "2026-11-01" in instance.get_dynamic_partitions("ae_months")
    # a dataset's partitions never start before its first supported month
    assert months_to_refresh(datetime(2023, 12, 20).date())["cancer"] == ["2023-10-01"]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A build on a snapshot whose June 2024 sickness file is not out yet; then June is published."""
    root = tmp_path_factory.mktemp("refresh")
    rows = [
        *manifest_rows(dataset="ods", period="2026"),
        *manifest_rows(dataset="staff_survey", period="2023"),  # organisations needs one survey year
        *manifest_rows(product="engagement_shmi_panel"),  # read by index_validity
        *manifest_rows(dataset="sickness", period="2024-04-01"),
        *manifest_rows(dataset="sickness", period="2024-05-01"),
    ]
    june = manifest_rows(dataset="sickness", period="2024-06-01")
    defs = definitions_on(private_snapshot(root / "snapshot", rows), root / "out")
    with dg.instance_for_test() as instance:
        built = execute_plan(defs, plan_full_build(defs), ProgressReporter(out=io.StringIO()), instance)
        assert built.ok, built.failed
        defs = definitions_on(private_snapshot(root / "snapshot", [*rows, *june]), root / "out")
        yield {"defs": defs, "instance": instance}


def test_a_tick_requests_only_the_new_month_then_what_reads_every_month(refreshed) -> None:
    defs: dg.Definitions = refreshed["defs"]  # type: ignore[assignment]
    instance: dg.DagsterInstance = refreshed["instance"]  # type: ignore[assignment]
    repository = defs.get_repository_def()
    schedule = refresh_schedule("* * * * *", "snapshot")
    tick = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=TICK, repository_def=repository, resources=defs.resources
    )
    (request,) = schedule.evaluate_tick(tick).run_requests
    assert sorted(k.to_user_string() for k in request.asset_selection) == ["raw_sickness", "sickness_monthly"]
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2024-06-01", "2024-06-01")
    sensor = follow_up_sensor("snapshot")
    # the daemon would launch the request; here it runs in process, with the request's tags
    result = defs.resolve_job_def("sickness_job").execute_in_process(
        instance=instance, asset_selection=list(request.asset_selection), tags=request.tags, raise_on_error=False
    )
    assert result.success
    assert instance.get_materialized_partitions(dg.AssetKey("sickness_monthly")) == {
        "2024-04-01",
        "2024-05-01",
        "2024-06-01",
    }
    follow_up = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, repository_def=repository))
    (downstream,) = follow_up.run_requests
    selected = {k.to_user_string() for k in downstream.asset_selection}
    # the tables that read every month, up to publication; not those that read none of them
    assert {"performance_monthly", "performance_annual", "indicators", "published_database"} <= selected
    assert not selected & {"performance_measures", "ods_trusts", "organisations", "raw_ods"}
    assert downstream.tags[REFRESH_TAG] == request.tags[REFRESH_TAG]
    # a second evaluation does not request the same follow-up again
    again = sensor.evaluate_tick(
        dg.build_sensor_context(instance=instance, repository_def=repository, cursor=follow_up.cursor)
    )
    assert again.run_requests == []
