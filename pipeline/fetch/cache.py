"""The download cache: raw_dir/<dataset>/<file name>, each file with a JSON sidecar beside it.

The sidecar (`<file name>.source.json`) records the source URL, final URL after redirects, fetch time,
size, SHA-256 and Content-Type, and the previous checksum when a revised upstream file replaced an
earlier copy. A cached file counts only when it still matches its sidecar ("verified"). Files enter
the cache by rename from a verified temporary file, so a failed download never leaves a partial or
corrupt file and never replaces a good one.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.settings import local_path
from pipeline.sources import sha256_of

SIDECAR_SUFFIX = ".source.json"


@dataclass(frozen=True)
class CachedFile:
    path: Path
    meta: dict[str, Any]

    @property
    def sha256(self) -> str:
        return self.meta["sha256"]

    @property
    def fetched_at(self) -> str:
        return self.meta["fetched_at"]

    def age_days(self, now: datetime | None = None) -> int:
        fetched = datetime.fromisoformat(self.fetched_at)
        return ((now or datetime.now(UTC)) - fetched).days

    def age_note(self, now: datetime | None = None) -> str:
        days = self.age_days(now)
        return f"using cached copy from {self.fetched_at[:10]}, {days} day{'s' if days != 1 else ''} old ({self.path})"


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def dataset_dir(raw_dir: str | Path, dataset: str) -> Path:
    return local_path(raw_dir) / dataset


def read_sidecar(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def verified(path: Path) -> CachedFile | None:
    """The cached file with its sidecar, if the bytes on disk still match the recorded size and checksum."""
    meta = read_sidecar(path)
    if meta is None or not path.is_file():
        return None
    if path.stat().st_size != meta.get("bytes") or sha256_of(path) != meta.get("sha256"):
        return None
    return CachedFile(path, meta)


def _sidecars(raw_dir: str | Path, dataset: str) -> list[tuple[Path, dict[str, Any]]]:
    directory = dataset_dir(raw_dir, dataset)
    if not directory.is_dir():
        return []
    found = []
    for sidecar in sorted(directory.glob(f"*{SIDECAR_SUFFIX}")):
        data = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
        meta = read_sidecar(data)
        if meta is not None:
            found.append((data, meta))
    return found


def find(raw_dir: str | Path, dataset: str, product: str, period: str, role: str = "download") -> CachedFile | None:
    """The newest verified cached file for this dataset, product, period and role ('download' or 'member')."""
    matches = [
        (meta.get("fetched_at", ""), path)
        for path, meta in _sidecars(raw_dir, dataset)
        if (meta.get("product"), meta.get("period"), meta.get("role", "download")) == (product, period, role)
    ]
    for _, path in sorted(matches, reverse=True):
        cached = verified(path)
        if cached is not None:
            return cached
    return None


def periods(raw_dir: str | Path, dataset: str, product: str, role: str) -> set[str]:
    """Periods with a cached file (checksums are verified when a file is used, not here)."""
    return {
        meta["period"]
        for path, meta in _sidecars(raw_dir, dataset)
        if meta.get("product") == product and meta.get("role", "download") == role and path.is_file()
    }


def _write_json_atomically(target: Path, data: dict[str, Any]) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def commit(temp: Path, destination: Path, meta: dict[str, Any]) -> CachedFile:
    """Move a verified temporary file into the cache and write its sidecar, each by atomic rename.

    If the process dies between the two renames, the file no longer matches the old sidecar, so it is
    not 'verified' and the next run downloads it again; a reader never sees a half-written file.
    """
    sidecar_temp = _write_json_atomically(destination, meta)
    try:
        os.replace(temp, destination)
        os.replace(sidecar_temp, sidecar_path(destination))
    finally:
        sidecar_temp.unlink(missing_ok=True)
    _fsync_dir(destination.parent)
    return CachedFile(destination, meta)


def update_sidecar(cached: CachedFile, **changes: Any) -> CachedFile:
    meta = {**cached.meta, **changes}
    sidecar_temp = _write_json_atomically(cached.path, meta)
    os.replace(sidecar_temp, sidecar_path(cached.path))
    return CachedFile(cached.path, meta)


def remove(cached: CachedFile) -> None:
    """Drop a file superseded by a revised release (its replacement is already committed)."""
    sidecar_path(cached.path).unlink(missing_ok=True)
    cached.path.unlink(missing_ok=True)
