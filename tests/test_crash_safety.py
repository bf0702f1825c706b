"""SIGKILL `nhs-readiness run` at random moments: the published file must survive every time.

The default suite runs a short loop; `uv run pytest -m slow` runs the full 20-trial loop.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from assets.publish.gate import verify_file
from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild
from tests.helpers.published import content_digest


def _run(env: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill_loop(build: SnapshotBuild, trials: int, seed: int) -> None:
    """Kill forced rebuilds of a good build at random moments within the time a full build takes."""
    env = {**os.environ, **build.environment}
    env.pop("DAGSTER_HOME", None)
    published = build.published
    full_run_seconds = build.seconds
    good = content_digest(published)

    rng = random.Random(seed)
    for trial in range(trials):
        delay = rng.uniform(0.0, full_run_seconds)
        victim = _run(env, "--force")
        time.sleep(delay)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=60)
        assert verify_file(published) == [], f"trial {trial}: killed after {delay:.2f} s"
        assert content_digest(published) == good, f"trial {trial}: content changed after a kill at {delay:.2f} s"

    final = _run(env)
    assert final.wait(timeout=600) == 0, final.stderr.read().decode()[-3000:]
    assert verify_file(published) == []
    assert content_digest(published) == good
    leftovers = [p.name for p in published.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == [], "temporary build files left behind"


def test_sigkill_short_loop(snapshot_build_copy: SnapshotBuild) -> None:
    # this seed kills at 13% of a full build's time (while staging) and at 85% (while publishing)
    _kill_loop(snapshot_build_copy, trials=2, seed=1)


@pytest.mark.slow
def test_sigkill_full_loop(snapshot_build_copy: SnapshotBuild) -> None:
    _kill_loop(snapshot_build_copy, trials=20, seed=4)
