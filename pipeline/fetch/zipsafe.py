"""Guards for opening zip archives from the web (survey detailed spreadsheets, RTT full extracts, xlsx files).

`safe_members` validates an archive and returns the member names that are safe to read; `extract_member`
streams one member to disk atomically. Refused: member names that escape the extraction folder
(`../`, absolute or drive paths), symbolic links, a total unpacked size above a cap, and members whose
unpacked size is absurd for their packed size (zip bombs). Mac resource-fork entries (`__MACOSX/`) are ignored.
"""

import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from pipeline.errors import InputDataError

# Real archives: RTT full extract 81.6 MB from 3.5 MB (23x); xlsx sheets compress 10-30x. 1000x is never data.
MAX_COMPRESSION_RATIO = 1000
# A member this small cannot do harm whatever its ratio (an empty file packs to a few bytes).
RATIO_EXEMPT_BYTES = 1 << 20
MAX_UNPACKED_BYTES = 4 << 30
IGNORED_PREFIX = "__MACOSX/"
_CHUNK = 1 << 20


class UnsafeArchiveError(InputDataError):
    """A zip archive that is corrupt or unsafe to unpack; names the archive and the offending member."""


def _is_ignored(name: str) -> bool:
    return name.startswith(IGNORED_PREFIX) or f"/{IGNORED_PREFIX}" in name


def _escapes(name: str) -> bool:
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    has_drive = len(normalised) > 1 and normalised[1] == ":"
    return path.is_absolute() or has_drive or ".." in path.parts


def safe_members(
    archive: Path,
    *,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
) -> list[str]:
    """Names of the regular file members of `archive`, after checking the whole archive is safe to unpack.

    Raises UnsafeArchiveError (an InputDataError naming the file) for a corrupt or truncated archive,
    a path-traversal or absolute member name, a symbolic link, an unpacked total above
    `max_unpacked_bytes`, or a member whose unpacked size is more than `max_ratio` times its packed size.
    """
    try:
        with zipfile.ZipFile(archive) as handle:
            infos = handle.infolist()
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise UnsafeArchiveError(f"not a readable zip archive (truncated or corrupt: {error})", file=archive) from None
    members: list[str] = []
    total = 0
    for info in infos:
        name = info.filename
        if _is_ignored(name) or info.is_dir():
            continue
        if _escapes(name):
            raise UnsafeArchiveError(
                f"member {name!r} would be written outside the extraction folder (path traversal); refused",
                file=archive,
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchiveError(f"member {name!r} is a symbolic link; refused", file=archive)
        if info.file_size > RATIO_EXEMPT_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UnsafeArchiveError(
                f"member {name!r} unpacks to {info.file_size:,} bytes from {info.compress_size:,} "
                f"(more than {max_ratio:g}x): a zip bomb, refused",
                file=archive,
            )
        total += info.file_size
        if total > max_unpacked_bytes:
            raise UnsafeArchiveError(f"unpacks to more than the {max_unpacked_bytes:,}-byte cap; refused", file=archive)
        members.append(name)
    return members


def extract_member(archive: Path, member: str, destination: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> Path:
    """Stream one member (validated by `safe_members` first) to `destination`, atomically.

    The bytes go to a temporary file beside `destination` and are renamed into place only when the
    member was read completely and its CRC matched, so a failure never leaves a partial file.
    zipfile reads no more than a member's declared size, which `safe_members` has checked.
    """
    if member not in safe_members(archive, max_unpacked_bytes=max_bytes):
        raise UnsafeArchiveError(f"has no safe member named {member!r}", file=archive)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(archive) as zipped, zipped.open(member) as source:
            shutil.copyfileobj(source, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, destination)
    except zipfile.BadZipFile as error:
        raise UnsafeArchiveError(f"member {member!r} is corrupt ({error})", file=archive) from None
    finally:
        temp.unlink(missing_ok=True)
    return destination
