"""Factory for ingest assets: fetch a dataset's source files and record them in `raw_<dataset>`.

The table lists, per partition, each file's local path, official URL, checksum, size and fetch time,
so every published number can be traced back to the file it came from.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline import dictionary
from pipeline.errors import SourceUnavailableError
from pipeline.resources import SourceResource
from pipeline.sources import SOURCE_FILE_SCHEMA, SourceFile, source_files_frame
from pipeline.warehouse import WarehouseResource, replace_rows, transaction

RAW_DDL = """CREATE TABLE IF NOT EXISTS "{table}"(
    partition_key VARCHAR, dataset VARCHAR, product VARCHAR, period VARCHAR, path VARCHAR,
    official_name VARCHAR, url VARCHAR, sha256 VARCHAR, bytes BIGINT, fetched_at VARCHAR, origin VARCHAR,
    replaced_earlier_file BOOLEAN, previous_sha256 VARCHAR, previous_official_name VARCHAR, replaced_at VARCHAR)"""
# columns added after the first release: a warehouse built before them gains them on its next load
REVISION_COLUMNS = {
    "replaced_earlier_file": "BOOLEAN",
    "previous_sha256": "VARCHAR",
    "previous_official_name": "VARCHAR",
    "replaced_at": "VARCHAR",
}
REVISION_SCHEMA = {"replaced_earlier_file": pl.Boolean, **dict.fromkeys(list(REVISION_COLUMNS)[1:], pl.String)}

Resolver = Callable[[SourceResource, str | None], list[SourceFile]]


def raw_files_asset(
    dataset: str,
    resolve: Resolver,
    *,
    partitions_def: dg.PartitionsDefinition | None = None,
    description: str,
) -> dg.AssetsDefinition:
    """An ingest asset named `raw_<dataset>` that fetches files via `resolve(source, partition_key)`."""
    table = f"raw_{dataset}"
    doc = dictionary.table("raw_files")

    @dg.asset(
        name=table,
        group_name="ingest",
        partitions_def=partitions_def,
        description=description,
        kinds={"python", "duckdb"},
        metadata=doc.dagster_metadata(),
    )
    def _asset(
        context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        key = context.partition_key if context.has_partition_key else None
        files = resolve(source, key)
        frame = source_files_frame(files).with_columns(partition_key=pl.lit(key or ""))
        with warehouse.get_connection() as con, transaction(con):
            con.execute(RAW_DDL.format(table=table))
            for column, sql_type in REVISION_COLUMNS.items():
                con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS {column} {sql_type}')
            earlier = con.sql(f'SELECT * FROM "{table}" WHERE partition_key = ?', params=[key or ""]).pl()
            frame = with_revisions(frame, earlier, datetime.now(UTC).isoformat(timespec="seconds"))
            replace_rows(con, table, frame, "partition_key = ?", [key or ""])
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(files),
                "source_mode": source.mode,
                "files": dg.MetadataValue.md(
                    "\n".join(
                        f"- `{f.official_name}` ({f.bytes:,} bytes, sha256 `{f.sha256[:12]}…`, {f.origin}) from {f.url}"
                        for f in files
                    )
                ),
            }
        )

    return _asset


def with_revisions(incoming: pl.DataFrame, earlier: pl.DataFrame, now: str) -> pl.DataFrame:
    """Mark each incoming file that replaces a different file loaded earlier for the same partition and product
    (a publisher's revised release, a new vintage): the earlier checksum and name, and when it was replaced.

    A file loaded again unchanged keeps the record it had, so re-running a period changes nothing."""
    before = earlier.select(
        "product",
        pl.col("sha256").alias("earlier_sha256"),
        pl.col("official_name").alias("earlier_name"),
        *[pl.col(c).alias(f"earlier_{c}") for c in REVISION_COLUMNS],
    ).unique("product", keep="last", maintain_order=True)
    joined = incoming.join(before, on="product", how="left", maintain_order="left")
    unchanged = pl.col("earlier_sha256") == pl.col("sha256")
    replaced = pl.col("earlier_sha256").is_not_null() & ~unchanged
    return joined.select(
        *incoming.columns,
        pl.when(unchanged)
        .then(pl.col("earlier_replaced_earlier_file").fill_null(False))
        .otherwise(replaced)
        .alias("replaced_earlier_file"),
        pl.when(unchanged)
        .then(pl.col("earlier_previous_sha256"))
        .when(replaced)
        .then(pl.col("earlier_sha256"))
        .alias("previous_sha256"),
        pl.when(unchanged)
        .then(pl.col("earlier_previous_official_name"))
        .when(replaced)
        .then(pl.col("earlier_name"))
        .alias("previous_official_name"),
        pl.when(unchanged).then(pl.col("earlier_replaced_at")).when(replaced).then(pl.lit(now)).alias("replaced_at"),
    ).cast(REVISION_SCHEMA)


def recorded_files(con: duckdb.DuckDBPyConnection, dataset: str, partition_key: str | None) -> list[SourceFile]:
    """The files the ingest asset fetched for this partition (what a staged asset should parse)."""
    table = f"raw_{dataset}"
    try:
        rows = con.sql(
            f'SELECT {", ".join(SOURCE_FILE_SCHEMA)} FROM "{table}" WHERE partition_key = ? ORDER BY product, period',
            params=[partition_key or ""],
        ).pl()
    except duckdb.CatalogException:
        rows = pl.DataFrame()
    if rows.is_empty():
        raise SourceUnavailableError(
            f"{table} has no files for partition {partition_key or '(unpartitioned)'}: materialise {table} first"
        )
    return [SourceFile(**{**row, "path": Path(row["path"])}) for row in rows.iter_rows(named=True)]
