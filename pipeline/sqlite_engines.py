"""One SQLAlchemy engine per SQLite file for Dagster's storage, in the command line's process (decision 35).

Dagster's SQLite run, event-log and schedule storages build a new engine for every query (`create_engine(...,
poolclass=NullPool)` inside each `connect`). Building it is about half of a query's 0.9 ms, and an unchanged rerun
makes some 2,000 queries. A NullPool engine holds no connection, so sharing one per file changes nothing else: every
query still opens and closes its own SQLite connection, and other processes (the UI, the daemon) see the same files.
"""

import importlib
from typing import Any

import sqlalchemy
from sqlalchemy.pool import NullPool

# Dagster's modules that call the `create_engine` they import by name (tests/test_sqlite_engines.py checks they do)
DAGSTER_SQLITE_MODULES = (
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster._core.storage.runs.sqlite.sqlite_run_storage",
    "dagster._core.storage.schedules.sqlite.sqlite_schedule_storage",
)
_engines: dict[tuple[str, str], sqlalchemy.Engine] = {}


def shared_engine(url: Any, **options: Any) -> sqlalchemy.Engine:
    """`sqlalchemy.create_engine`, returning the same engine for the same SQLite URL and NullPool options."""
    if options.get("poolclass") is not NullPool or not str(url).startswith("sqlite:"):
        return sqlalchemy.create_engine(url, **options)
    key = (str(url), repr(sorted(options.items(), key=lambda item: item[0])))
    if key not in _engines:
        _engines[key] = sqlalchemy.create_engine(url, **options)
    return _engines[key]


def share_sqlite_engines() -> list[str]:
    """Point Dagster's SQLite storages at `shared_engine`; the modules patched (none if Dagster changed)."""
    patched = []
    for name in DAGSTER_SQLITE_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "create_engine", None) in (sqlalchemy.create_engine, shared_engine):
            module.create_engine = shared_engine  # type: ignore[attr-defined]
            patched.append(name)
    return patched
