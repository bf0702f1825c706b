"""The command line shares one SQLAlchemy engine per SQLite file of its Dagster instance (decision 35)."""

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy

from pipeline import sqlite_engines
from pipeline.dagster_home import project_instance
from pipeline.settings import PROJECT_ROOT

READ_PARTITIONS = """
import sys
import dagster as dg
instance = dg.DagsterInstance.from_config(sys.argv[1])
print(",".join(instance.get_dynamic_partitions("ae_months")))
"""


def test_every_dagster_sqlite_storage_module_is_patched() -> None:
    """Fails when a Dagster upgrade renames what the patch replaces, instead of silently losing the speed-up."""
    assert sqlite_engines.share_sqlite_engines() == list(sqlite_engines.DAGSTER_SQLITE_MODULES)


def test_queries_reuse_one_engine_per_file_and_other_processes_see_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("NHS_READINESS_WAREHOUSE", str(tmp_path / "work" / "warehouse.duckdb"))
    created: list[str] = []
    real = sqlalchemy.create_engine

    def counting(url: object, **options: object) -> sqlalchemy.Engine:
        created.append(str(url))
        return real(url, **options)

    monkeypatch.setattr(sqlalchemy, "create_engine", counting)
    monkeypatch.setattr(sqlite_engines, "_engines", {})
    instance = project_instance()
    try:
        for month in ("2024-04-01", "2024-05-01", "2024-06-01"):
            instance.add_dynamic_partitions("ae_months", [month])
            instance.get_dynamic_partitions("ae_months")
    finally:
        instance.dispose()
    home = tmp_path / "work" / "dagster_home"
    schedules = f"sqlite:///{home / 'schedules' / 'schedules.db'}"
    # six reads and writes of the schedule storage, which holds dynamic partitions: one engine
    assert created.count(schedules) == 1, created
    # a process without the patch reads what this one wrote
    other = subprocess.run(
        [sys.executable, "-c", READ_PARTITIONS, str(home)], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert other.returncode == 0, other.stderr[-2000:]
    assert other.stdout.strip().splitlines()[-1] == "2024-04-01,2024-05-01,2024-06-01"
