"""One SQLAlchemy engine per SQLite file for Dagster's storage, in the command line's process (decisions 35, 36).

Dagster's SQLite run, event-log and schedule storages build a new engine for every query (`create_engine(...,
poolclass=NullPool)` inside each `connect`), so every query also opens and closes its own SQLite connection. In WAL
mode closing a file's last connection checkpoints the log into the database file, and an unchanged rerun makes some
2,000 queries, a cold build some 3,000.

- Every SQLite file gets one engine, built once (decision 35).
- The instance-wide files (the event-log index, runs, schedules) also keep one connection open between queries
  (decision 36): a pool of one, whose `dispose` (which Dagster's event log calls after each query) does nothing.
  Other processes (the UI, the daemon) read the same files as before: WAL readers see every committed write.
- A run's own event-log file keeps opening and closing its connection, because the UI follows a run live by
  watching that file change, which it does only when a closing connection checkpoints the log into it.

`release_engines` closes the kept connections; `dagster_home.opened_project_instance` calls it as it closes the
instance.
"""

import importlib
from typing import Any

import sqlalchemy
from sqlalchemy.pool import NullPool, QueuePool

# Dagster's modules that call the `create_engine` they import by name (tests/test_sqlite_engines.py checks they do)
DAGSTER_SQLITE_MODULES = (
    "dagster._core.storage.event_log.sqlite.sqlite_event_log",
    "dagster._core.storage.runs.sqlite.sqlite_run_storage",
    "dagster._core.storage.schedules.sqlite.sqlite_schedule_storage",
)
# the instance-wide files, whose connection stays open (a run's event-log file is named by its run ID)
KEPT_OPEN = ("/index.db", "/runs.db", "/schedules.db")
_engines: dict[tuple[str, str], sqlalchemy.Engine] = {}


def _kept_open(url: Any, options: dict[str, Any]) -> sqlalchemy.Engine:
    connect_args = {**options.get("connect_args", {}), "check_same_thread": False}
    engine = sqlalchemy.create_engine(url, connect_args=connect_args, poolclass=QueuePool, pool_size=1, max_overflow=4)
    engine.dispose = lambda *args, **kwargs: None  # type: ignore[method-assign]
    return engine


def shared_engine(url: Any, **options: Any) -> sqlalchemy.Engine:
    """`sqlalchemy.create_engine`, returning the same engine for the same SQLite URL and NullPool options."""
    if options.get("poolclass") is not NullPool or not str(url).startswith("sqlite:"):
        return sqlalchemy.create_engine(url, **options)
    key = (str(url), repr(sorted(options.items(), key=lambda item: item[0])))
    if key not in _engines:
        kept_open = str(url).endswith(KEPT_OPEN)
        _engines[key] = _kept_open(url, options) if kept_open else sqlalchemy.create_engine(url, **options)
    return _engines[key]


def release_engines() -> None:
    """Close the connections kept open and forget every engine (the next query builds its engine again)."""
    for engine in _engines.values():
        sqlalchemy.Engine.dispose(engine)
    _engines.clear()


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
