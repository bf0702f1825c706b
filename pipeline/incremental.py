"""The whole-project code fingerprint shown in build_info, and a forced rebuild for tests.

Dagster decides what is stale (pipeline/staleness.py, docs/dagster.md); the make-style reuse that lived here
was deleted (docs/decisions.md, entry 26).
"""

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

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
