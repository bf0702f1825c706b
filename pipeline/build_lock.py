"""One build at a time per warehouse: an advisory lock beside it, naming the process that holds it.

DuckDB would refuse a second writer with a lock traceback, after the second build had already started; this lock
is taken before anything is read or written, so a second `nhs-readiness run` stops at once and changes nothing.
The kernel releases it when the holder exits, even when killed, so it is never left stale.

While a build runs the file reads `running <PID>`. A build that ends, well or badly, empties the file as it lets go;
a build that was killed leaves that line behind, and the next build learns that it was interrupted
(`BuildLock.interrupted_pid`). A bare PID, as builds before this rule left, is not taken for a kill.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RUNNING = "running "


class BuildRunningError(RuntimeError):
    """Another build holds the warehouse."""


@dataclass(frozen=True)
class BuildLock:
    interrupted_pid: int | None  # the build before this one was killed before it finished


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".build-lock")


@contextmanager
def build_lock(warehouse: Path) -> Iterator[BuildLock]:
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip().removeprefix(RUNNING) or "unknown"
            raise BuildRunningError(
                f"another build (PID {holder}) is writing {warehouse}; wait for it to finish, or stop it first"
            ) from None
        handle.seek(0)
        left = handle.read().strip()
        handle.seek(0)
        handle.truncate()
        handle.write(f"{RUNNING}{os.getpid()}")
        handle.flush()
        killed = left.removeprefix(RUNNING)
        try:
            yield BuildLock(interrupted_pid=int(killed) if left.startswith(RUNNING) and killed.isdigit() else None)
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
    finally:
        handle.close()
