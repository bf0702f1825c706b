"""Retired: Dagster now decides what is stale (pipeline/staleness.py, docs/dagster.md).

The private `_build_state` table is neither read nor written any more. These names remain only so that asset
modules owned by other work streams still import; their reuse branches are now never taken, because
`is_current` is always false: an asset runs only when Dagster selected it, and then it rebuilds. The calls can be
deleted from the asset modules (docs/decisions.md lists them). `fingerprint` and `code_fingerprint` remain for the
Great Expectations result cache in pipeline/checks.py and the published build_info.
"""

import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

import duckdb

from pipeline.settings import DATA_DIR, EXPECTATIONS_DIR, PROJECT_ROOT

FORCE_ENV = "NHS_READINESS_FORCE_REBUILD"
_CODE_DIRS = ("pipeline", "assets")
_DATA_DIRS = (DATA_DIR / "reference", DATA_DIR / "framework", DATA_DIR / "dictionary", EXPECTATIONS_DIR)


@cache
def code_fingerprint() -> str:
    """Hash of every source and reference file that can change a published number (shown in build_info)."""
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
    """Within this block every asset is rebuilt (the runner reads the same variable)."""
    previous = os.environ.get(FORCE_ENV)
    os.environ[FORCE_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(FORCE_ENV, None)
        else:
            os.environ[FORCE_ENV] = previous


def is_current(_con: duckdb.DuckDBPyConnection, _asset: str, _partition: str | None, _fp: str) -> bool:
    return False


def mark_built(_con: duckdb.DuckDBPyConnection, _asset: str, _partition: str | None, _fp: str) -> None:
    return None


def upstream_fingerprint(_con: duckdb.DuckDBPyConnection, _assets: Iterable[str]) -> str:
    return ""
