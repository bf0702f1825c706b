"""The monthly refresh as a service: `dagster-daemon run` on a persistent DAGSTER_HOME made from
pipeline/instance/dagster.yaml takes a queued run of the reference job off its run queue, runs it to SUCCESS
(ODS trusts from the real etr file), and stops cleanly on SIGTERM."""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.settings import PROJECT_ROOT
from tests.helpers.processes import group_members, stop_group

STARTUP_SECONDS = 90  # generous: a loaded 2-core CI machine
RUN_SECONDS = 120


@pytest.fixture
def dagster_home(tmp_path: Path, isolated_outputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    # create the SQLite storage once, here: the daemon and `dagster job launch` starting together would otherwise
    # race to create and migrate the same databases
    with dg.DagsterInstance.get() as instance:
        instance.get_runs(limit=1)
    return home


@pytest.fixture
def daemon(dagster_home: Path) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: one signal reaches the run processes it launches
    )
    yield process
    if process.poll() is None or group_members(process.pid):
        os.killpg(process.pid, signal.SIGKILL)


def test_the_daemon_runs_a_queued_job_to_success_and_stops_cleanly(
    daemon: subprocess.Popen, dagster_home: Path, isolated_outputs: dict[str, Path], real_data: Path
) -> None:
    launched = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "job",
            "launch",
            "-w",
            "workspace.yaml",
            "-j",
            "reference_job",
        ],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
    )
    assert launched.returncode == 0, launched.stderr[-2000:]

    instance = dg.DagsterInstance.get()  # the persistent instance in DAGSTER_HOME, as the daemon sees it
    (run,) = instance.get_runs(dg.RunsFilter(job_name="reference_job"))
    deadline = time.monotonic() + STARTUP_SECONDS + RUN_SECONDS
    while not run.is_finished and time.monotonic() < deadline:
        if daemon.poll() is not None:
            pytest.fail(f"dagster-daemon exited early: {daemon.stderr.read().decode()[-2000:]}")
        time.sleep(0.5)
        run = instance.get_run_by_id(run.run_id)
    assert run.status == dg.DagsterRunStatus.SUCCESS, f"run ended {run.status}"
    # it went through the queue (the QueuedRunCoordinator of the template), not straight to a launcher
    events = [r.event_log_entry.dagster_event.event_type for r in instance.get_records_for_run(run.run_id).records]
    lifecycle = [e for e in events if e.value.startswith("PIPELINE_") or e.value.startswith("RUN_")]
    assert lifecycle[:2] == [dg.DagsterEventType.PIPELINE_ENQUEUED, dg.DagsterEventType.PIPELINE_STARTING], lifecycle
    assert lifecycle[-1] == dg.DagsterEventType.PIPELINE_SUCCESS

    con = duckdb.connect(str(isolated_outputs["warehouse"]), read_only=True)
    try:
        # the real ODS etr 2026 export has 274 trusts (data/snapshot/ods/2026/etr.csv, one row each)
        assert con.sql("SELECT count(*) FROM ods_trusts").fetchall() == [(274,)]
    finally:
        con.close()

    assert stop_group(daemon, signal.SIGTERM, 60) == [], "dagster-daemon left processes behind after SIGTERM"
