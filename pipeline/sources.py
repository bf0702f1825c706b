"""Source files: what a parser reads, where it came from and its checksum.

In `snapshot` mode files come from the real public copies shipped in data/snapshot/ (listed in its
manifest.csv); in `web` mode from the official publishers through the download cache in data/raw/.
"""

import csv
import hashlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import polars as pl

from pipeline.errors import SourceUnavailableError
from pipeline.settings import local_path

MANIFEST_NAME = "manifest.csv"


@dataclass(frozen=True)
class SourceFile:
    dataset: str
    product: str
    period: str
    path: Path
    official_name: str
    url: str
    sha256: str
    bytes: int
    fetched_at: str
    origin: str  # "snapshot" | "web" | "cache"

    def as_row(self) -> dict[str, object]:
        row = asdict(self)
        row["path"] = str(self.path)
        return row


SOURCE_FILE_SCHEMA = {
    "dataset": pl.String,
    "product": pl.String,
    "period": pl.String,
    "path": pl.String,
    "official_name": pl.String,
    "url": pl.String,
    "sha256": pl.String,
    "bytes": pl.Int64,
    "fetched_at": pl.String,
    "origin": pl.String,
}


def source_files_frame(files: list[SourceFile]) -> pl.DataFrame:
    return pl.DataFrame([f.as_row() for f in files], schema=SOURCE_FILE_SCHEMA)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def read_manifest(snapshot_dir: str) -> tuple[dict[str, str], ...]:
    path = local_path(snapshot_dir) / MANIFEST_NAME
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def snapshot_periods(snapshot_dir: str, dataset: str, product: str) -> list[str]:
    return sorted(
        row["period"] for row in read_manifest(snapshot_dir) if (row["dataset"], row["product"]) == (dataset, product)
    )


def snapshot_file(snapshot_dir: str, dataset: str, product: str, period: str) -> SourceFile:
    for row in read_manifest(snapshot_dir):
        if (row["dataset"], row["product"], row["period"]) == (dataset, product, period):
            path = local_path(snapshot_dir) / row["path"]
            if not path.exists():
                raise SourceUnavailableError(f"snapshot manifest lists {row['path']} but the file is missing")
            return SourceFile(
                dataset=dataset,
                product=product,
                period=period,
                path=path,
                official_name=row["official_name"],
                url=row["official_url"],
                sha256=row["sha256"],
                bytes=int(row["bytes"]),
                fetched_at=datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds"),
                origin="snapshot",
            )
    raise SourceUnavailableError(f"the bundled snapshot has no {dataset}/{product} file for period {period!r}")
