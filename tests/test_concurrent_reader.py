"""A researcher querying the published file while `nhs-readiness run` republishes it never gets an error
or a half-built table (the reader runs in its own process, as a notebook would)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear within {seconds} s"
        time.sleep(0.05)


def test_reader_sees_only_whole_builds_during_a_republication(snapshot_build_copy: SnapshotBuild) -> None:
    published = snapshot_build_copy.published
    # the copy has no Dagster instance (its history stays with the shared build), so the run below rebuilds
    # everything and republishes: the republication is the step a reader can meet
    first_inode = published.stat().st_ino
    stop, result = snapshot_build_copy.root / "stop", snapshot_build_copy.root / "result.json"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.published_reader", str(published), str(stop), str(result)],
        cwd=PROJECT_ROOT,
    )
    try:
        _wait_for(result.with_suffix(".ready"), 60)
        rebuild = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "run"],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert rebuild.returncode == 0, rebuild.stderr[-2000:]
    finally:
        stop.touch()
        reader.wait(timeout=60)
    outcome = json.loads(result.read_text())
    assert outcome["errors"] == []
    assert published.stat().st_ino != first_inode, "the rebuild swapped in a new file"
    assert set(outcome["inodes"]) == {first_inode, published.stat().st_ino}, "the reader read the old and the new"
    assert outcome["iterations"] >= 10
