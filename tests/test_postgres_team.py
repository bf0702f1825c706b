"""A team on one Dagster instance in PostgreSQL: a throwaway PostgreSQL server (127.0.0.1, free port, data folder
under the test's temporary folder), DAGSTER_HOME made from pipeline/instance/dagster.postgres.yaml with the
credentials in the environment, one `nhs-readiness run` on a small snapshot of real files shared by the module, then
`dagster-daemon` firing `monthly_refresh` (and its follow-up sensor), two `dagster-webserver` processes as two
analysts, and PostgreSQL stopped in the middle of a run. Every process started here is stopped here, and nothing
is left listening.

The order of the tests matters: the last one stops and restarts PostgreSQL.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import requests
import yaml

from pipeline.settings import PROJECT_ROOT
from tests.helpers.operations import small_snapshot_rows
from tests.helpers.performance import manifest_rows, private_snapshot
from tests.helpers.postgres_server import PostgresServer, free_port, listening, throwaway_postgres
from tests.helpers.processes import group_members, stop_group

BIN = Path(sys.executable).parent
TEST_LOCATION = ["-m", "tests.helpers.postgres_code_location", "-d", str(PROJECT_ROOT)]
TICK_SECONDS = 240  # next minute boundary, the daemon's scheduler interval, then the run, on a loaded 2-core machine
STARTUP_SECONDS = 120
# held back from the first build and published before the tick: the one new month the monthly refresh must pick up
# (a real file of the snapshot, inside the months the shipped schedule requests in 2026)
NEW_MONTH = ("cancer", "combined_workbook", "2026-01-01")
NEW_MONTH_JOB = "cancer_job"


@dataclass(frozen=True)
class TeamInstance:
    postgres: PostgresServer
    root: Path
    environment: dict[str, str]
    held_back: str  # the manifest line of NEW_MONTH

    @property
    def manifest(self) -> Path:
        return self.root / "snapshot" / "manifest.csv"

    def publish_new_month(self) -> None:
        self.manifest.write_text(self.manifest.read_text() + self.held_back)

    @property
    def published(self) -> Path:
        return self.root / "published"

    def sql(self, query: str, *params: object) -> list[tuple]:
        """Read the instance's tables in PostgreSQL directly, as an administrator would."""
        env = self.postgres.environment
        con = psycopg2.connect(
            host=env["DAGSTER_PG_HOST"],
            port=int(env["DAGSTER_PG_PORT"]),
            dbname=env["DAGSTER_PG_DB"],
            user=env["DAGSTER_PG_USERNAME"],
            password=env["DAGSTER_PG_PASSWORD"],
        )
        try:
            with con.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()
        finally:
            con.close()


def nhs_readiness(team: TeamInstance, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "nhs-readiness"), *args],
        cwd=PROJECT_ROOT,
        env=team.environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_service(team: TeamInstance, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        list(command),
        cwd=PROJECT_ROOT,
        env=team.environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: one signal reaches the run processes it launches
    )


def stop_service(process: subprocess.Popen) -> list[str]:
    if process.poll() is None:
        return stop_group(process, signal.SIGTERM, 60)
    left = group_members(process.pid)
    if left:
        os.killpg(process.pid, signal.SIGKILL)
    return left


def file_checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamInstance]:
    """PostgreSQL up, the instance settings in DAGSTER_HOME, and the snapshot built once through the instance."""
    with throwaway_postgres(tmp_path_factory.mktemp("postgres")) as postgres:
        root = tmp_path_factory.mktemp("team")
        home = root / "dagster_home"
        home.mkdir()
        shutil.copyfile(PROJECT_ROOT / "pipeline" / "instance" / "dagster.postgres.yaml", home / "dagster.yaml")
        # the small snapshot of real files the staleness tests build (one survey year: a shorter build), and the
        # month the tick must pick up
        new_month = manifest_rows(dataset=NEW_MONTH[0], product=NEW_MONTH[1], period=NEW_MONTH[2])
        snapshot = private_snapshot(root / "snapshot", [*small_snapshot_rows(), *new_month])
        lines = (snapshot / "manifest.csv").read_text().splitlines(keepends=True)
        (held_back,) = [line for line in lines if line.startswith(",".join(NEW_MONTH) + ",")]
        (snapshot / "manifest.csv").write_text("".join(line for line in lines if line != held_back))
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("NHS_READINESS_", "DAGSTER_"))},
            **postgres.environment,
            "DAGSTER_HOME": str(home),
            "NHS_READINESS_RAW_DIR": str(root / "raw"),
            "NHS_READINESS_WAREHOUSE": str(root / "work" / "warehouse.duckdb"),
            "NHS_READINESS_PUBLISHED_DIR": str(root / "published"),
            "NHS_READINESS_SNAPSHOT_DIR": str(snapshot),
        }
        team = TeamInstance(postgres, root, environment, held_back)
        built = nhs_readiness(team, "run")
        assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-3000:]
        yield team
    assert not listening(postgres.port), "PostgreSQL still listening after the tests"


@pytest.fixture(scope="module")
def tick_run(team: TeamInstance) -> Iterator[dict[str, object]]:
    """A new month appears, then monthly_refresh is switched on, dagster-daemon fires a real tick, and the tick's
    run finishes."""
    team.publish_new_month()
    started = subprocess.run(
        [str(BIN / "dagster"), "schedule", "start", "monthly_refresh", *TEST_LOCATION],
        cwd=PROJECT_ROOT,
        env=team.environment,
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    switched_on = time.time()
    daemon = start_service(team, str(BIN / "dagster-daemon"), "run", *TEST_LOCATION)
    try:
        deadline = time.monotonic() + TICK_SECONDS + 600
        rows: list[tuple] = []
        while time.monotonic() < deadline:
            if daemon.poll() is not None:
                pytest.fail(f"dagster-daemon exited early: {daemon.stderr.read().decode()[-2000:]}")
            rows = team.sql(
                "SELECT r.run_id, r.status, extract(epoch FROM r.create_timestamp) FROM runs r "
                "JOIN run_tags t ON t.run_id = r.run_id "
                "WHERE t.key = 'dagster/schedule_name' AND t.value = 'monthly_refresh' ORDER BY r.id LIMIT 1"
            )
            if rows and rows[0][1] in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
        assert rows, f"no run of monthly_refresh within {TICK_SECONDS} s of switching it on"
        ((run_id, status, created),) = rows
        run_ended = team.sql("SELECT max(timestamp) FROM event_logs WHERE run_id = %s", run_id)[0][0]
        # then the follow-up sensor requests what reads every month, once the tick's runs have succeeded
        follow_up: list[tuple] = []
        while status == "SUCCESS" and time.monotonic() < deadline + 600:
            follow_up = team.sql(
                "SELECT r.run_id, r.status FROM runs r JOIN run_tags t ON t.run_id = r.run_id "
                "WHERE t.key = 'dagster/sensor_name' AND t.value = 'monthly_refresh_downstream' ORDER BY r.id LIMIT 1"
            )
            if follow_up and follow_up[0][1] in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(2)
    finally:
        left = stop_service(daemon)
    assert left == [], "dagster-daemon left processes behind after SIGTERM"
    yield {
        "run_id": run_id,
        "status": status,
        "created": created,
        "ended": run_ended,
        "switched_on": switched_on,
        "follow_up": follow_up,
    }


def test_the_postgres_settings_take_every_credential_from_the_environment() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "pipeline" / "instance" / "dagster.postgres.yaml").read_text())
    database = settings["storage"]["postgres"]["postgres_db"]
    fields = ("hostname", "port", "db_name", "username", "password")
    assert {k: database[k] for k in fields} == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
    }
    assert set(database) == {*fields, "scheme"}


def test_the_daemon_fires_monthly_refresh_and_its_run_succeeds_in_postgres(
    team: TeamInstance, tick_run: dict[str, object]
) -> None:
    assert tick_run["status"] == "SUCCESS", team.sql(
        "SELECT event FROM event_logs WHERE run_id = %s AND dagster_event_type = 'RUN_FAILURE'", tick_run["run_id"]
    )
    # a real tick of the schedule, recorded by the daemon in the instance's tick table, launched that run
    ticks = [json.loads(body) for (body,) in team.sql("SELECT tick_body FROM job_ticks WHERE status = 'SUCCESS'")]
    launched = {run for tick in ticks for run in tick.get("run_ids", [])}
    assert tick_run["run_id"] in launched, ticks
    assert team.sql(
        "SELECT value FROM run_tags WHERE run_id = %s AND key = 'nhs_readiness/trigger'", tick_run["run_id"]
    ) == [("schedule",)]
    # an ordinary asset run of the new month's range, not a run that runs the command-line plan inside it
    assert team.sql(
        "SELECT key, value FROM run_tags WHERE run_id = %s AND key LIKE 'dagster/asset_partition_range%%' ORDER BY 1",
        tick_run["run_id"],
    ) == [("dagster/asset_partition_range_end", NEW_MONTH[2]), ("dagster/asset_partition_range_start", NEW_MONTH[2])]
    # and what reads every month ran after it, in a run the follow-up sensor requested
    assert [status for _, status in tick_run["follow_up"]] == ["SUCCESS"], tick_run["follow_up"]


def test_the_tick_materializes_only_what_was_stale(team: TeamInstance, tick_run: dict[str, object]) -> None:
    # the build before the tick left every asset up to date; since then only NEW_MONTH appeared, so what is stale
    # is that partition of the dataset's own assets and everything downstream of them, and nothing else
    from pipeline.definitions import defs

    own = defs.resolve_job_def(NEW_MONTH_JOB).asset_layer.selected_asset_keys
    stale = dg.AssetSelection.assets(*own).downstream().resolve(defs.resolve_asset_graph())
    materialized = team.sql(
        "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "AND timestamp >= to_timestamp(%s) AT TIME ZONE 'UTC'",
        tick_run["switched_on"],
    )
    keys = {dg.AssetKey(json.loads(key)) for key, _ in materialized}
    assert own & keys, f"the new month's assets were not materialized: {sorted(k.to_user_string() for k in keys)}"
    not_stale = sorted(k.to_user_string() for k in keys - stale)
    assert not_stale == [], f"{len(not_stale)} up-to-date assets rebuilt by the tick: {not_stale}"
    own_partitions = {partition for key, partition in materialized if dg.AssetKey(json.loads(key)) in own}
    assert own_partitions == {NEW_MONTH[2]}, own_partitions
    assert {"performance_monthly", "readiness_index", "published_database"} <= {k.path[-1] for k in keys}


LATEST_MATERIALIZATION = """
{ assetOrError(assetKey: {path: ["readiness_index"]}) {
    ... on Asset { assetMaterializations(limit: 1) { runId timestamp } } } }
"""


def test_two_webservers_show_the_same_latest_readiness_index(team: TeamInstance, tick_run: dict[str, object]) -> None:
    ports = [free_port(), free_port()]
    analysts = [
        start_service(team, str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(p))
        for p in ports
    ]
    try:
        seen = []
        for port, process in zip(ports, analysts, strict=True):
            deadline = time.monotonic() + STARTUP_SECONDS
            while not listening(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"dagster-webserver on {port} did not start: {process.stderr.read().decode()[-2000:]}")
                time.sleep(0.5)
            answer = requests.post(
                f"http://127.0.0.1:{port}/graphql", json={"query": LATEST_MATERIALIZATION}, timeout=60
            )
            answer.raise_for_status()
            seen.append(answer.json()["data"]["assetOrError"]["assetMaterializations"])
    finally:
        left = [stop_service(p) for p in analysts]
    assert left == [[], []], "dagster-webserver left processes behind"
    assert not any(listening(p) for p in ports)
    (expected_run,) = team.sql(
        "SELECT run_id FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "AND asset_key = %s ORDER BY id DESC LIMIT 1",
        json.dumps(["readiness_index"]),  # AssetKey.to_string()
    )[0]
    assert seen[0] == seen[1] and len(seen[0]) == 1, seen
    assert seen[0][0]["runId"] == expected_run


def test_postgres_stopped_mid_run_fails_clearly_keeps_outputs_and_the_next_run_succeeds(team: TeamInstance) -> None:
    before = file_checksums(team.published)
    assert "nhs_change_readiness.duckdb" in before and any(k.endswith(".html") for k in before), sorted(before)
    runs_before = team.sql("SELECT count(*) FROM runs")[0][0]
    run = subprocess.Popen(
        [str(BIN / "nhs-readiness"), "run", "--force"],
        cwd=PROJECT_ROOT,
        env=team.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # wait until the run is under way: its first runs recorded in the instance, assets materializing
        progress = []
        for line in run.stdout:  # type: ignore[union-attr]
            progress.append(line)
            if len(progress) >= 3:
                break
        deadline = time.monotonic() + STARTUP_SECONDS
        while team.sql("SELECT count(*) FROM runs")[0][0] == runs_before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.poll() is None, "the forced build ended before PostgreSQL could be stopped under it"
        team.postgres.stop(mode="immediate")
        out, err = run.communicate(timeout=600)
    finally:
        if run.poll() is None or group_members(run.pid):
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode != 0, "".join(progress) + out
    assert "Published" not in out, out[-2000:]
    # it names the storage that failed, where its settings are, and the server's address
    assert "FAILED: the Dagster instance storage (PostgreSQL at 127.0.0.1 port " in err, err[-3000:]
    assert f"port {team.postgres.port}" in err and "kept unchanged" in err, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert file_checksums(team.published) == before

    team.postgres.start()
    again = nhs_readiness(team, "run")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
