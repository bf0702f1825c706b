"""SIGKILL `nhs-readiness run` at random moments: the published file must survive every time.

The default suite kills one run while it stages and one while it publishes; `uv run pytest -m slow` runs the full
20-trial loop at random moments of a whole forced rebuild.
"""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets.publish.gate import verify_file
from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild
from tests.helpers.dagster_events import materializations
from tests.helpers.published import content_digest


def _run(env: dict[str, str], *extra: str, stdout: int = subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", *extra],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=stdout == subprocess.PIPE,
        start_new_session=True,
    )


def _kill(victim: subprocess.Popen, published: Path, good: str, when: str) -> None:
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    assert verify_file(published) == [], f"killed {when}"
    assert content_digest(published) == good, f"content changed after a kill {when}"


def _finish(env: dict[str, str], build: SnapshotBuild, good: str) -> None:
    """A run after the kills rebuilds everything once, as `--force` does (a kill can leave the warehouse out of step
    with Dagster's record), completes and publishes the same content, and no temporary build file is left."""
    published, home = build.published, build.warehouse.parent / "dagster_home"
    before = materializations(home)
    final = _run(env, stdout=subprocess.PIPE)
    out, err = final.communicate(timeout=600)
    assert final.returncode == 0, err[-3000:]
    assert "was killed before it finished, so this build rebuilds everything once" in out
    from pipeline.definitions import defs

    every_asset = {key.to_user_string() for key in defs.resolve_asset_graph().materializable_asset_keys}
    rebuilt = set(materializations(home) - before)
    assert rebuilt == every_asset, sorted(every_asset ^ rebuilt)
    assert verify_file(published) == []
    assert content_digest(published) == good
    leftovers = [p.name for p in published.parent.iterdir() if ".tmp-" in p.name]
    assert leftovers == [], "temporary build files left behind"


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
        _kill(victim, published, good, f"in trial {trial} after {delay:.2f} s")
    _finish(env, build, good)


def test_sigkill_while_publishing_and_while_staging(small_build: SnapshotBuild, tmp_path: Path) -> None:
    """The two moments that matter, aimed at rather than hit by chance: while the new file is being written beside
    the published one, and while a forced rebuild writes the staged tables of the warehouse (on a copy of the
    shared small build: the full loop below kills builds of the whole snapshot)."""
    build = small_build.copy_to(tmp_path / "build", instance=True)
    env = {**os.environ, **build.environment}
    env.pop("DAGSTER_HOME", None)
    published, good, rng = build.published, content_digest(build.published), random.Random(1)

    # with a table only the published file reads gone, a run rebuilds it and republishes at once (the copy has its
    # instance, so nothing else is stale); killed at a random moment once its temporary file has appeared
    with duckdb.connect(str(build.warehouse)) as con:
        con.execute("DROP TABLE performance_unmatched")
    victim = _run(env)
    deadline = time.monotonic() + 300
    while not list(published.parent.glob(f".{published.name}.tmp-*")):
        assert victim.poll() is None, f"the run ended ({victim.returncode}) before publishing"
        assert time.monotonic() < deadline, "the run did not start publishing within 300 s"
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.5))
    _kill(victim, published, good, "while publishing")

    # a forced rebuild, killed at a random moment after its first partition (a line such as
    # "✓ staff_survey 2021  raw_staff_survey [2021]") is staged
    victim = _run(env, "--force", stdout=subprocess.PIPE)
    assert victim.stdout is not None
    for line in victim.stdout:
        if "✓" in line and "[" in line:
            break
    else:
        raise AssertionError(f"the forced rebuild staged nothing: {victim.stderr.read()[-3000:]}")  # type: ignore[union-attr]
    time.sleep(rng.uniform(0.0, 2.0))
    _kill(victim, published, good, "while staging")

    _finish(env, build, good)


@pytest.mark.slow
def test_sigkill_full_loop(snapshot_build_copy: SnapshotBuild) -> None:
    _kill_loop(snapshot_build_copy, trials=20, seed=4)
