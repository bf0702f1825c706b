"""Helpers for the performance dataset tests: broken copies of the real files, and a pipeline on a private snapshot."""

import csv
import shutil
from pathlib import Path

import dagster as dg
import polars as pl

from pipeline.definitions import build_definitions
from pipeline.resources import SourceResource
from pipeline.settings import SNAPSHOT_DIR
from pipeline.sources import read_manifest, sha256_of
from tests.corpus.breakers import xlsx_edited


def measure_of(frame: pl.DataFrame, org: str, measure: str) -> dict:
    rows = frame.filter((pl.col("reported_org_code") == org) & (pl.col("measure") == measure))
    assert rows.height == 1, f"{org} {measure}: {rows.height} rows"
    return rows.row(0, named=True)


def private_snapshot(root: Path, rows: list[dict[str, str]]) -> Path:
    """A snapshot folder holding copies of the given manifest rows' files (paths kept) and their manifest.

    A row may carry `source` (a replacement file to copy instead of the real one) or `missing` (list the file
    in the manifest but leave it absent, as when a publisher withdraws a file).
    """
    root.mkdir(parents=True, exist_ok=True)
    fields = ["dataset", "product", "period", "path", "official_name", "official_url", "sha256", "bytes", "licence"]
    out = []
    for row in rows:
        target = root / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if not row.get("missing"):
            shutil.copy2(
                row.get("source") or SNAPSHOT_DIR / row["path"], target
            )  # keeps the modification time: fetched_at
            row = {**row, "sha256": sha256_of(target), "bytes": str(target.stat().st_size)}
        out.append({k: row[k] for k in fields})
    with (root / "manifest.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    read_manifest.cache_clear()
    return root


def manifest_rows(**match: str) -> list[dict[str, str]]:
    return [dict(r) for r in read_manifest(str(SNAPSHOT_DIR)) if all(r[k] == v for k, v in match.items())]


def definitions_on(snapshot: Path, outputs: Path) -> dg.Definitions:
    """The project's definitions reading a private snapshot and writing under `outputs`."""
    base = build_definitions(
        source_mode="snapshot",
        raw_dir=str(outputs / "raw"),
        warehouse_path=str(outputs / "work" / "warehouse.duckdb"),
        published_dir=str(outputs / "published"),
    )
    resources = {**base.resources, "source": SourceResource(snapshot_dir=str(snapshot), raw_dir=str(outputs / "raw"))}
    return dg.Definitions(
        assets=base.assets,
        asset_checks=base.asset_checks,
        jobs=base.jobs,
        schedules=base.schedules,
        resources=resources,
        executor=dg.in_process_executor,
    )


def edited_workbook(source: Path, target: Path, sheet: str, cell: str, value: str | float) -> Path:
    """A copy of a real .xlsx with one cell replaced, the rest of the workbook byte for byte as published."""
    return xlsx_edited(source, target, cells={sheet: {cell: value}})
