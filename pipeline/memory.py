"""The C heap: how many arenas it keeps, and handing freed memory back to the operating system (decisions 36, 37).

glibc's malloc keeps freed memory for reuse rather than returning it, spread over one arena per thread that met a
busy one. Polars, DuckDB and NumPy run on thread pools, and the index's Monte Carlo scores its draws on a pool of
threads (decision 37); memory freed in one arena is not reused by the others.

- `share_heap_arenas` caps the process at HEAP_ARENAS arenas. glibc fixes its arena limit when a thread first
  needs an arena of its own, so the cap must come before any thread starts: `pipeline/__init__.py` calls it when
  the package is first imported, and puts it in MALLOC_ARENA_MAX for the processes this one starts. Without it the
  scoring threads raised a cold build's peak from about 0.87 to 1.1 GB; with it the build takes the same time.
- `return_freed_memory` (`malloc_trim`) returns the heap's free pages; a success hook on every job calls it after
  each step (`pipeline/jobs.py`). Before it, a build's peak swung between 0.90 and 1.06 GB from run to run, about
  0.2 GB of it memory already freed.

Where the C library is not glibc (macOS, musl) both do nothing.
"""

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from functools import cache

M_ARENA_MAX = -8  # glibc's malloc.h
HEAP_ARENAS = 2


@cache
def _libc_function(name: str) -> Callable[..., int] | None:
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or None), name)
    except (AttributeError, OSError):
        return None


def share_heap_arenas() -> bool:
    """Cap the C heap at HEAP_ARENAS arenas; whether glibc accepted it (it has no effect once a thread has been
    given an arena of its own). A cap the user set in MALLOC_ARENA_MAX stays as it is. The cap also goes into the
    environment, so processes started from this one have it from their first instruction: the run workers that
    `dagster dev`'s and the daemon's code servers start import Dagster, and start threads, before the pipeline."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    os.environ["MALLOC_ARENA_MAX"] = str(HEAP_ARENAS)
    mallopt = _libc_function("mallopt")
    return bool(mallopt(M_ARENA_MAX, HEAP_ARENAS)) if mallopt is not None else False


def return_freed_memory() -> bool:
    """Return the C heap's free pages to the operating system; whether glibc did (False elsewhere)."""
    trim = _libc_function("malloc_trim")
    return bool(trim(0)) if trim is not None else False
