"""A researcher querying the published file while `nhs-readiness run` republishes it never gets an error
or a half-built table (the reader runs in its own process, as a notebook would)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild

# a table only the published file reads: the run rebuilds it, and so republishes, and nothing else upstream
DROPPED = "performance_unmatched"


def _wait_for(path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear within {seconds} s"
        time.sleep(0.05)


@pytest.fixture
def stale_copy(small_build: SnapshotBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SnapshotBuild:
    """A private copy of the shared small build with its Dagster instance, whose warehouse lacks one table that only
    the published file reads: `nhs-readiness run` there rebuilds that table and republishes, without a whole build
    (the republication is the step a reader can meet)."""
    build = small_build.copy_to(tmp_path / "build", instance=True)
    with duckdb.connect(str(build.warehouse)) as con:
        con.execute(f"DROP TABLE {DROPPED}")
    for name, value in build.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return build


def test_reader_sees_only_whole_builds_during_a_republication(stale_copy: SnapshotBuild) -> None:
    published = stale_copy.published
    first_inode = published.stat().st_ino
    stop, result = stale_copy.root / "stop", stale_copy.root / "result.json"
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
        assert DROPPED in rebuild.stdout and "readiness_index" not in rebuild.stdout, rebuild.stdout[-3000:]
    finally:
        stop.touch()
        reader.wait(timeout=60)
    outcome = json.loads(result.read_text())
    assert outcome["errors"] == []
    assert published.stat().st_ino != first_inode, "the rebuild swapped in a new file"
    assert set(outcome["inodes"]) == {first_inode, published.stat().st_ino}, "the reader read the old and the new"
    assert outcome["iterations"] >= 10
