"""`dagster dev` serves the same assets, grouped by stage, over GraphQL; and it stops cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT
from tests.helpers.processes import group_members, stop_group

ASSETS_QUERY = """
{ assetNodes { assetKey { path } groupName description
    metadataEntries { label } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _interruptible() -> None:
    """Let Ctrl-C reach dagster dev even when the tests run from a shell without job control (`cmd &`, as CI may):
    such a shell starts background commands with SIGINT ignored, children inherit that, and dagster dev also maps
    SIGTERM to its SIGINT handler, so it would ignore both while its webserver and daemon stop and then wait on
    their shutdown pipes for a message it never sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def dagster_dev(tmp_path: Path, isolated_outputs):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    dagster = Path(sys.executable).with_name("dagster")
    # its log goes to a file, not a pipe: nothing reads a pipe while it runs, and a full pipe blocks the writer
    log = tmp_path / "dagster-dev.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "DAGSTER_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,  # its own process group, so one signal reaches every child it starts
            preexec_fn=_interruptible,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/server_info", timeout=2)
            if "assetNodes" in json.dumps(_post(f"{base}/graphql", ASSETS_QUERY)):
                break
        except OSError:
            pass
        if process.poll() is not None:
            pytest.fail(f"dagster dev exited early: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("dagster dev did not answer within 90 s")
    yield base, process
    if group_members(process.pid):
        os.killpg(process.pid, signal.SIGKILL)


def test_dagster_dev_lists_assets_by_stage_and_stops_cleanly(dagster_dev) -> None:
    base, process = dagster_dev
    nodes = _post(f"{base}/graphql", ASSETS_QUERY)["data"]["assetNodes"]
    by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert by_key["ods_trusts"]["groupName"] == "staged"
    assert by_key["raw_ods"]["groupName"] == "ingest"
    assert by_key["published_database"]["groupName"] == "publish"
    assert all(n["description"] for n in nodes)
    labels = {e["label"] for e in by_key["ods_trusts"]["metadataEntries"]}
    assert "dagster/column_schema" in labels

    # Ctrl-C, as an analyst stops it; dagster dev gives the webserver and then the daemon up to 60 s each
    assert stop_group(process, signal.SIGINT, 150) == [], "dagster dev left processes behind after Ctrl-C"
