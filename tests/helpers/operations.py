"""Helpers for the operations tests: a small private snapshot of real files, and the state of every output."""

import hashlib
import io
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline.progress import ProgressReporter
from pipeline.runner import BuildOutcome, PlannedRun, execute_plan
from tests.helpers.performance import manifest_rows
from tests.helpers.published import content_digest


def small_snapshot_rows() -> list[dict[str, str]]:
    """Real files of every kind the downstream layer needs, small enough to build in seconds: the 2026 ODS
    export, the 2024 staff survey (organisational workbook and extract), two A&E months, one sickness month, the
    April 2025 cancer provider workbook, the April 2026 RTT extract and the 2012-2019 engagement panel."""
    return [
        *manifest_rows(dataset="ods", period="2026"),
        *manifest_rows(dataset="staff_survey", period="2024"),
        *manifest_rows(dataset="ae", product="monthly_csv", period="2024-06-01"),
        *manifest_rows(dataset="ae", product="monthly_csv", period="2024-07-01"),
        *manifest_rows(dataset="sickness", period="2024-04-01"),
        *manifest_rows(dataset="cancer", period="2025-04-01"),
        *manifest_rows(dataset="rtt", period="2026-04-01"),
        *manifest_rows(dataset="staff_survey", product="engagement_shmi_panel"),
    ]


def run_quietly(definitions: dg.Definitions, plan: list[PlannedRun]) -> BuildOutcome:
    return execute_plan(definitions, plan, ProgressReporter(out=io.StringIO()), dg.DagsterInstance.ephemeral())


def warehouse_tables(path: Path, skip_prefixes: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    """Every table of the working warehouse, rows sorted, for before/after comparisons."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [n for (n,) in con.sql("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {
            name: con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').pl()
            for name in names
            if not name.startswith(skip_prefixes)
        }
    finally:
        con.close()


def parquet_bytes(published_dir: Path) -> dict[str, str]:
    """SHA-256 of every Parquet copy's bytes."""
    return {
        p.stem: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((published_dir / "parquet").glob("*.parquet"))
    }


def published_state(published_dir: Path) -> tuple[dict[str, str], dict[str, str], bytes]:
    """Content digest per table, Parquet bytes per table, and the published DuckDB file's own bytes."""
    database = published_dir / "nhs_change_readiness.duckdb"
    return content_digest(database), parquet_bytes(published_dir), database.read_bytes()


def tree_listing(
    root: Path, ignore: tuple[str, ...] = ("__pycache__",), folders: bool = False
) -> dict[str, tuple[int, int]]:
    """Every file (and with `folders`, every folder, size 0) under `root` with its size and modification time, to
    prove nothing was written there."""
    return {
        str(p.relative_to(root)): (p.stat().st_size if p.is_file() else 0, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if (folders or p.is_file()) and not any(part in ignore for part in p.parts)
    }


def changed_tables(before: dict[str, pl.DataFrame], after: dict[str, pl.DataFrame]) -> list[str]:
    """Tables added, dropped or with different rows between two `warehouse_tables` readings."""
    return sorted(
        name
        for name in before.keys() | after.keys()
        if name not in before or name not in after or not before[name].equals(after[name])
    )
