"""Per-run cost of the Dagster instance storage: a cold `nhs-readiness run` on the bundled snapshot with no
DAGSTER_HOME (in-memory instance), with pipeline/instance/dagster.yaml (SQLite) and with
pipeline/instance/dagster.postgres.yaml (a throwaway local PostgreSQL server, as tests/test_postgres_team.py
starts it). Each build starts from empty outputs in a fresh process; the instance's runs and events are counted
afterwards. Storages run interleaved, `--rounds` times, to spread a shared machine's noise across them.

    uv run python bench/instance_storage.py [--rounds 2]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.postgres_server import PostgresServer, throwaway_postgres  # noqa: E402

TEMPLATES = {"sqlite": "dagster.yaml", "postgres": "dagster.postgres.yaml"}


def cold_build(work: Path, storage: str, extra_env: dict[str, str]) -> dict[str, object]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NHS_READINESS_", "DAGSTER_"))}
    env |= {
        "NHS_READINESS_RAW_DIR": str(work / "raw"),
        "NHS_READINESS_WAREHOUSE": str(work / "work" / "warehouse.duckdb"),
        "NHS_READINESS_PUBLISHED_DIR": str(work / "published"),
    }
    if storage in TEMPLATES:
        home = work / "dagster_home"
        home.mkdir()
        shutil.copyfile(ROOT / "pipeline" / "instance" / TEMPLATES[storage], home / "dagster.yaml")
        env |= {"DAGSTER_HOME": str(home), **extra_env}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{storage} build failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    counts = {}
    if storage in TEMPLATES:
        count = (
            "import dagster as dg; i = dg.DagsterInstance.get(); runs = i.get_run_ids(); "
            "print(len(runs), sum(len(i.all_logs(r)) for r in runs))"
        )
        runs, events = subprocess.run(
            [sys.executable, "-c", count], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        counts = {"runs": int(runs), "events": int(events)}
    return {"storage": storage, "seconds": round(seconds, 1), **counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="instance-bench-") as tmp,
        throwaway_postgres(Path(tmp) / "postgres") as postgres,
    ):
        for round_number in range(args.rounds):
            for storage in ("memory", "sqlite", "postgres"):
                if storage == "postgres" and round_number:
                    postgres_reset(postgres)
                result = cold_build(Path(tmp) / "builds" / storage, storage, postgres.environment)
                print(json.dumps({"round": round_number + 1, **result}), flush=True)
                results.append(result)
    for storage in ("memory", "sqlite", "postgres"):
        times = sorted(r["seconds"] for r in results if r["storage"] == storage)
        print(f"{storage:9s} cold build: {times} s")


def postgres_reset(postgres: PostgresServer) -> None:
    """An empty instance database, so every PostgreSQL build is as cold as the SQLite one."""
    import psycopg2

    env = postgres.environment
    con = psycopg2.connect(
        host=env["DAGSTER_PG_HOST"],
        port=int(env["DAGSTER_PG_PORT"]),
        user=env["DAGSTER_PG_USERNAME"],
        password=env["DAGSTER_PG_PASSWORD"],
        dbname="postgres",
    )
    con.autocommit = True
    with con.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {env['DAGSTER_PG_DB']} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {env['DAGSTER_PG_DB']}")
    con.close()


if __name__ == "__main__":
    main()
