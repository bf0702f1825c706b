"""Time a full build of every snapshot month of every performance dataset, as `nhs-readiness run` does it.

Usage: uv run python bench/snapshot_build.py   (writes into a temporary directory; prints seconds per layer)
"""

import io
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NHS_READINESS_RAW_DIR"] = f"{tmp}/raw"
        os.environ["NHS_READINESS_WAREHOUSE"] = f"{tmp}/work/warehouse.duckdb"
        os.environ["NHS_READINESS_PUBLISHED_DIR"] = f"{tmp}/published"
        os.environ.pop("DAGSTER_HOME", None)
        started = time.perf_counter()
        import dagster as dg

        from pipeline.definitions import build_definitions
        from pipeline.progress import ProgressReporter
        from pipeline.runner import execute_plan, plan_full_build

        defs = build_definitions(source_mode="snapshot")
        plan = plan_full_build(defs)
        imported = time.perf_counter()
        seconds: dict[str, float] = defaultdict(float)
        runs: dict[str, int] = defaultdict(int)
        reporter = ProgressReporter(out=io.StringIO())
        instance = dg.DagsterInstance.ephemeral()  # one instance for every run, as the runner uses
        for planned in plan:
            t = time.perf_counter()
            outcome = execute_plan(defs, [planned], reporter, instance)
            if not outcome.ok:
                print(f"FAILED {planned.label}: {outcome.failed[1]}")
                return 1
            layer = planned.label.split()[0]
            seconds[layer] += time.perf_counter() - t
            runs[layer] += 1
        total = time.perf_counter() - started
        # the issue's target covers the performance datasets' months; survey years are partitioned too, not monthly
        partitioned = sum(v for k, v in seconds.items() if k not in {"reference", "downstream", "staff_survey"})
        print(f"definitions and imports     {imported - started:6.1f} s")
        for layer, value in seconds.items():
            print(f"{layer:<14} {runs[layer]:>3} run(s)  {value:6.1f} s")
        print(f"all performance months      {partitioned:6.1f} s  (target < 30 s)")
        print(f"whole build incl. publish   {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
