"""Swap a freshly built output into place in one step, so a reader sees the old version or the new, never a mix.

Files are renamed over their target (`os.replace`). A directory cannot be renamed over a non-empty one, so it is
exchanged with the old one by Linux's renameat2(RENAME_EXCHANGE), one atomic step; where that call is missing
(other systems, some filesystems) the old directory is renamed aside first, which leaves the target path missing
for the microseconds between two renames.
"""

import ctypes
import errno
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STALE_TEMP_SECONDS = 3600
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def pid_alive(temp: Path) -> bool:
    """Whether the process named in a temp name `<name>.tmp-<pid>[.suffix]` still runs."""
    try:
        os.kill(int(temp.name.rsplit("-", 1)[1].split(".")[0]), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: Path, pattern: str) -> None:
    """Temps left by a killed run; a live run's temp is younger than any build takes."""
    for stale in directory.glob(pattern):
        if time.time() - stale.stat().st_mtime > STALE_TEMP_SECONDS or not pid_alive(stale):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the system or filesystem has no renameat2 exchange."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}:
        return False
    raise OSError(code, os.strerror(code), str(second))


def swap_directory(new: Path, target: Path) -> None:
    """Put `new` at `target`; afterwards `new` is gone or holds the previous version for the caller to delete."""
    if not target.exists():
        os.rename(new, target)
    elif not _exchange(new, target):
        aside = target.with_name(f"{target.name}.old-{os.getpid()}")
        os.rename(target, aside)
        os.rename(new, target)
        os.rename(aside, new)
    fsync_directory(target.parent)


@contextmanager
def building_directory(target: Path) -> Iterator[Path]:
    """An empty `<target>.tmp-<pid>` beside `target` to build into; swapped into place when the block ends without
    an error. On error the temp folder is deleted and `target` stays exactly as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent, f"{target.name}.tmp-*")
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    try:
        yield temp
        swap_directory(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
