"""The command line shares one SQLAlchemy engine per SQLite file of its Dagster instance (decision 35)."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool, QueuePool

from pipeline import sqlite_engines
from pipeline.dagster_home import opened_project_instance
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
    home = tmp_path / "work" / "dagster_home"
    index = home / "history" / "runs" / "index.db"  # the event log's index, which holds dynamic partitions
    opened: list[str] = []

    def count_connection(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        opened.append(dbapi_connection.execute("PRAGMA database_list").fetchone()[2])

    sqlalchemy.event.listen(sqlalchemy.pool.Pool, "connect", count_connection)
    try:
        with opened_project_instance() as instance:
            opened_by_setup = opened.count(str(index))
            for month in ("2024-04-01", "2024-05-01", "2024-06-01"):
                instance.add_dynamic_partitions("ae_months", [month])
                instance.get_dynamic_partitions("ae_months")
            # six reads and writes of dynamic partitions: one engine, and the connection the instance's setup opened
            # stays open for them all (without it, each opens and closes a connection of its own)
            assert created.count(f"sqlite:///{index}") == 1, created
            assert opened.count(str(index)) == opened_by_setup, opened
            assert index.with_name("index.db-wal").exists()  # the open connection's write-ahead log
            # while the connection is open, a process without the patch reads what this one wrote
            other = subprocess.run(
                [sys.executable, "-c", READ_PARTITIONS, str(home)], cwd=PROJECT_ROOT, capture_output=True, text=True
            )
            assert other.returncode == 0, other.stderr[-2000:]
            assert other.stdout.strip().splitlines()[-1] == "2024-04-01,2024-05-01,2024-06-01"
    finally:
        sqlalchemy.event.remove(sqlalchemy.pool.Pool, "connect", count_connection)
    # left: the instance disposed and its last connection closed, which folds the write-ahead log into the file
    assert not index.with_name("index.db-wal").exists()


def test_a_runs_own_event_log_file_is_not_kept_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The UI follows a run live by watching its file change, which happens when a closing connection folds the
    write-ahead log into it; the instance-wide files keep one connection open."""
    monkeypatch.setattr(sqlite_engines, "_engines", {})
    runs = tmp_path / "history" / "runs"
    run_file = sqlite_engines.shared_engine(f"sqlite:///{runs / 'b5c1a8e2.db'}", poolclass=NullPool)
    index = sqlite_engines.shared_engine(f"sqlite:///{runs / 'index.db'}", poolclass=NullPool)
    assert isinstance(run_file.pool, NullPool)
    assert isinstance(index.pool, QueuePool) and index.pool.size() == 1
    sqlite_engines.release_engines()
