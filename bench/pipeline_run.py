"""Benchmark `nhs-readiness run` on the bundled snapshot: a cold build, a rerun with nothing changed, and a forced
rebuild (`--force`).

Each run is a fresh process (as a user would start it); wall time, user and system CPU time and peak resident memory
are measured from outside. The Dagster instance is the project default beside the (temporary) warehouse. Targets
(issue 17): cold under 25 s and 1 GB on 2 cores; unchanged rerun under 5 s.

    uv run python bench/pipeline_run.py [--keep DIR]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(env: dict[str, str], *args: str) -> dict[str, float]:
    """Wall time and peak RSS of one `nhs-readiness run` process (os.wait4 gives that child's own rusage)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"run failed:\n{output[-4000:]}")
    return {
        "seconds": round(seconds, 2),
        "user_seconds": round(usage.ru_utime, 2),
        "system_seconds": round(usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="nhs-bench-"))
    env = {
        **os.environ,
        "NHS_READINESS_RAW_DIR": str(root / "raw"),
        "NHS_READINESS_WAREHOUSE": str(root / "work" / "warehouse.duckdb"),
        "NHS_READINESS_PUBLISHED_DIR": str(root / "published"),
    }
    env.pop("DAGSTER_HOME", None)
    cold = timed_run(env)
    warm = timed_run(env)
    forced = timed_run(env, "--force")
    published = root / "published" / "nhs_change_readiness.duckdb"
    report = {
        "cold_build": cold,
        "unchanged_rerun": warm,
        "forced_rebuild": forced,
        "published_mb": round(published.stat().st_size / 1e6, 2),
        "cpus": os.cpu_count(),
        "targets": {"cold_seconds": 25, "cold_peak_mb": 1024, "rerun_seconds": 5},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
