"""Clear errors at the edges of `nhs-readiness run`: a second build while one runs, a warehouse another process
holds, and a web build offline."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.build_lock import build_lock, lock_path
from pipeline.fetch import http
from pipeline.fetch.http import DownloadError
from pipeline.fetch.reachability import offline_message
from pipeline.resources import SourceResource
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import WarehouseBusyError, WarehouseResource

ODS_URL = "https://www.odsdatasearchandexport.nhs.uk/api/getReport?report=etr"


def _environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "NHS_READINESS_SOURCE"}}
    return env | {
        "NHS_READINESS_RAW_DIR": str(root / "raw"),
        "NHS_READINESS_WAREHOUSE": str(root / "work" / "warehouse.duckdb"),
        "NHS_READINESS_PUBLISHED_DIR": str(root / "published"),
    }


def _listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def _refused_run(env: dict[str, str]) -> str:
    """`nhs-readiness run` refused: exit code 3, one line on stderr (returned), no traceback."""
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 3, run.stderr[-3000:]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    return lines[0]


def test_a_second_run_while_one_runs_stops_at_once_naming_it_and_touches_nothing(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    warehouse = Path(env["NHS_READINESS_WAREHOUSE"])
    with build_lock(warehouse):  # this test process is "the running build"
        before = _listing(tmp_path)
        started = time.monotonic()
        refusal = _refused_run(env)
        seconds = time.monotonic() - started
        after = _listing(tmp_path)
    assert f"another build (PID {os.getpid()}) is writing {warehouse}" in refusal
    assert after == before  # no warehouse, no instance, no published file: nothing was created or changed
    assert seconds < 30  # at once: the lock is taken before anything is loaded


def test_a_run_while_another_process_holds_the_warehouse_stops_with_one_line_and_touches_nothing(
    tmp_path: Path,
) -> None:
    """A run started from the UI or the daemon does not take the build lock, but it holds DuckDB's lock on the
    warehouse while it writes (this test process stands in for it)."""
    env = _environment(tmp_path)
    warehouse = Path(env["NHS_READINESS_WAREHOUSE"])
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as holder:
        holder.execute("CREATE TABLE written_by_another_run AS SELECT 1 AS x")
        before = _listing(tmp_path)
        refusal = _refused_run(env)
        after = _listing(tmp_path)
    assert f"the warehouse {warehouse} is open in another process (PID {os.getpid()}, " in refusal
    # the build lock is the only file it leaves (empty, in the folder it changed by that): no Dagster instance, no
    # published file, the warehouse as it was
    lock = "work/warehouse.duckdb.build-lock"
    assert {k: v for k, v in after.items() if k not in {"work", lock}} == {
        k: v for k, v in before.items() if k != "work"
    }
    assert lock in after
    assert lock_path(warehouse).read_text() == ""


OFFLINE_RUN = """
import socket, sys
def no_dns(*args, **kwargs):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
socket.getaddrinfo = no_dns
from pipeline.cli import main
sys.exit(main(["run", "--source", "web"]))
"""


def test_a_web_run_with_no_publisher_host_resolving_stops_with_one_line(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    started = time.monotonic()
    offline = subprocess.run(
        [sys.executable, "-c", OFFLINE_RUN], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert time.monotonic() - started < 60
    assert offline.returncode == 2
    errors = offline.stderr.strip().splitlines()
    assert len(errors) == 1, offline.stderr
    assert "no publisher host resolves (cms.nhsstaffsurveys.com, digital.nhs.uk, files.digital.nhs.uk" in errors[0]
    assert "use --source snapshot" in errors[0]
    assert "Traceback" not in offline.stderr
    assert sorted(_listing(tmp_path)) == ["work", "work/warehouse.duckdb.build-lock"]  # nothing but the lock


def test_a_host_mapped_to_a_loopback_test_server_counts_as_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*_args: object, **_kwargs: object) -> None:
        raise OSError("offline")

    monkeypatch.setattr("socket.getaddrinfo", no_dns)
    assert offline_message({}) is not None
    assert offline_message({"https://www.england.nhs.uk": "http://127.0.0.1:9"}) is None


def test_a_retry_wait_says_what_it_waits_for_and_a_stop_signal_ends_it(caplog: pytest.LogCaptureFixture) -> None:
    settings = SourceResource(retries=3, backoff_seconds=30.0)
    calls: list[float] = []

    def attempt() -> None:
        calls.append(time.monotonic())
        raise DownloadError(ODS_URL, "HTTP 503 Service Unavailable", transient=True)

    stopper = threading.Timer(0.5, http.STOP.set)
    stopper.start()
    try:
        with (
            caplog.at_level(logging.WARNING, logger="pipeline.fetch"),
            pytest.raises(DownloadError, match="stopped while waiting to retry"),
        ):
            http._with_retries(ODS_URL, settings, attempt)
    finally:
        stopper.cancel()
        http.STOP.clear()
    assert len(calls) == 1
    assert time.monotonic() - calls[0] < 5  # not the 30 s backoff
    assert (
        "www.odsdatasearchandexport.nhs.uk: HTTP 503 Service Unavailable; retry 1 of 3 of "
        f"{ODS_URL} in 30 s" in caplog.text
    )


def test_retries_follow_the_policy_then_give_up_naming_the_attempts() -> None:
    settings = SourceResource(retries=2, backoff_seconds=0.01)
    calls: list[float] = []

    def attempt() -> None:
        calls.append(time.monotonic())
        raise DownloadError(ODS_URL, "HTTP 502 Bad Gateway", transient=True)

    with pytest.raises(DownloadError, match=r"HTTP 502 Bad Gateway \(gave up after 3 attempts\)"):
        http._with_retries(ODS_URL, settings, attempt)
    assert len(calls) == 3
    assert calls[2] - calls[1] >= 0.02 > 0  # the second wait doubles the first (0.01 s, then 0.02 s)


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("NHS_READINESS_SOURCE_OPTIONS", "[1]", "NHS_READINESS_SOURCE_OPTIONS must be a JSON object"),
        ("NHS_READINESS_WAREHOUSE", "s3://bucket/warehouse.duckdb", "s3:// is not supported"),
    ],
)
def test_unusable_settings_are_one_line_not_a_traceback(tmp_path: Path, variable: str, value: str, says: str) -> None:
    env = _environment(tmp_path) | {variable: value}
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"nhs-readiness run: {run.stderr.split(': ', 1)[1].strip()}"]
    assert says in run.stderr and "Traceback" not in run.stderr


HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from pipeline.build_lock import build_lock
with build_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    if sys.argv[2] == "wait":
        time.sleep(600)
"""


def test_the_next_build_learns_that_a_build_was_killed_and_not_after_a_clean_end(tmp_path: Path) -> None:
    warehouse = tmp_path / "work" / "warehouse.duckdb"
    killed = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(warehouse), "wait"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE
    )
    assert killed.stdout is not None and killed.stdout.readline() == b"holding\n"
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    with build_lock(warehouse) as lock:
        assert lock.interrupted_pid == killed.pid
    with build_lock(warehouse) as lock:  # the build above ended normally
        assert lock.interrupted_pid is None
    finished = subprocess.run(
        [sys.executable, "-c", HOLD_THE_LOCK, str(warehouse), "end"], cwd=PROJECT_ROOT, capture_output=True
    )
    assert finished.returncode == 0, finished.stderr
    with build_lock(warehouse) as lock:
        assert lock.interrupted_pid is None
    # a lock file from before this rule holds a bare PID: not a kill
    lock_path(warehouse).write_text("12345")
    with build_lock(warehouse) as lock:
        assert lock.interrupted_pid is None


HOLD_THE_WAREHOUSE = """
import sys, time
import duckdb
with duckdb.connect(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(600)
"""


def test_an_asset_opening_a_warehouse_the_command_line_writes_fails_with_one_sentence(tmp_path: Path) -> None:
    """What a UI or daemon run's step meets while `nhs-readiness run` (here a child process) holds the warehouse."""
    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WAREHOUSE, str(warehouse)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"holding\n"
        with pytest.raises(WarehouseBusyError) as refused, WarehouseResource(database=str(warehouse)).get_connection():
            pass
    finally:
        holder.kill()
        holder.wait(timeout=60)
    assert isinstance(refused.value, dg.Failure)  # Dagster shows its description, not a traceback
    assert f"the warehouse {warehouse} is open in another process (PID {holder.pid}, " in refused.value.description
