"""Skip work whose inputs have not changed since the last successful build (make-style).

An asset's fingerprint hashes the project's code and reference data, the asset key and partition,
the checksums of its source files and the fingerprints of the assets it reads. A rerun with nothing
changed reuses the stored tables instead of rebuilding them.
"""

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

import duckdb

from pipeline.settings import DATA_DIR, EXPECTATIONS_DIR, PROJECT_ROOT

STATE_TABLE = "_build_state"
FORCE_ENV = "NHS_READINESS_FORCE_REBUILD"
_CODE_DIRS = ("pipeline", "assets")
_DATA_DIRS = (DATA_DIR / "reference", DATA_DIR / "framework", DATA_DIR / "dictionary", EXPECTATIONS_DIR)


@cache
def code_fingerprint() -> str:
    """Hash of every source and reference file that can change a published number."""
    digest = hashlib.sha256()
    paths = [p for d in _CODE_DIRS for p in (PROJECT_ROOT / d).rglob("*") if p.suffix in {".py", ".sql"}]
    paths += [p for d in _DATA_DIRS if d.exists() for p in d.rglob("*") if p.is_file()]
    for path in sorted(paths):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(*parts: object) -> str:
    digest = hashlib.sha256()
    if not os.environ.get(FORCE_ENV):
        digest.update(code_fingerprint().encode())
    else:  # a forced rebuild never matches a stored fingerprint
        digest.update(datetime.now(UTC).isoformat().encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(str(part).encode())
    return digest.hexdigest()


@contextmanager
def forced_rebuild() -> Iterator[None]:
    """Within this block no fingerprint matches a stored one, so every asset rebuilds."""
    previous = os.environ.get(FORCE_ENV)
    os.environ[FORCE_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(FORCE_ENV, None)
        else:
            os.environ[FORCE_ENV] = previous


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE}("
        "asset VARCHAR, partition_key VARCHAR, fingerprint VARCHAR, built_at TIMESTAMP, "
        "PRIMARY KEY (asset, partition_key))"
    )


def is_current(con: duckdb.DuckDBPyConnection, asset: str, partition: str | None, fp: str) -> bool:
    _ensure(con)
    rows = con.sql(
        f"SELECT fingerprint FROM {STATE_TABLE} WHERE asset = ? AND partition_key = ?",
        params=[asset, partition or ""],
    ).fetchall()
    return bool(rows) and rows[0][0] == fp


def mark_built(con: duckdb.DuckDBPyConnection, asset: str, partition: str | None, fp: str) -> None:
    """Record a successful build. Call inside the transaction that wrote the asset's rows."""
    _ensure(con)
    con.execute(
        f"INSERT OR REPLACE INTO {STATE_TABLE} VALUES (?, ?, ?, ?)",
        [asset, partition or "", fp, datetime.now(UTC).replace(tzinfo=None)],
    )


def upstream_fingerprint(con: duckdb.DuckDBPyConnection, assets: Iterable[str]) -> str:
    """One hash over every built partition of the given upstream assets."""
    _ensure(con)
    names = sorted(set(assets))
    rows = con.sql(
        f"SELECT asset, partition_key, fingerprint FROM {STATE_TABLE} "
        "WHERE list_contains(?, asset) ORDER BY asset, partition_key",
        params=[names],
    ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()
