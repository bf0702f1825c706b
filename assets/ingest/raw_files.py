"""Factory for ingest assets: fetch a dataset's source files and record them in `raw_<dataset>`.

The table lists, per partition, each file's local path, official URL, checksum, size and fetch time,
so every published number can be traced back to the file it came from.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline import dictionary
from pipeline.errors import SourceUnavailableError
from pipeline.fetch.http import DownloadError, forget_unreachable_hosts
from pipeline.partition_events import already_recorded, record_partition, unavailable_metadata
from pipeline.resources import SourceResource
from pipeline.sources import SOURCE_FILE_SCHEMA, SourceFile, source_files_frame
from pipeline.warehouse import WarehouseResource, replace_rows, transaction

Resolver = Callable[[SourceResource, str | None], list[SourceFile]]
FILES_USED = "source_files_used"


@dataclass(frozen=True)
class SourceSpec:
    """What a source asset observes: the files `resolve` finds for each partition."""

    dataset: str
    resolve: Resolver
    partitions_def: dg.PartitionsDefinition | None


# every raw_<dataset> asset's resolver, for its observable source asset (assets/ingest/source_files.py)
SOURCES: dict[str, SourceSpec] = {}


def source_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(f"source_{dataset}")


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
    SOURCES[dataset] = SourceSpec(dataset, resolve, partitions_def)

    @dg.asset(
        name=table,
        group_name="ingest",
        deps=[source_key(dataset)],
        partitions_def=partitions_def,
        # every month of a backfill in one run, each in its own transaction (docs/decisions.md)
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def is not None else None,
        dagster_type=dg.Nothing,  # the table is the output: no IO manager
        description=description,
        kinds={"python", "duckdb"},
        metadata=doc.dagster_metadata(),
    )
    def _asset(context: dg.AssetExecutionContext, source: SourceResource, warehouse: WarehouseResource):
        if partitions_def is None:
            files = _fetch(context, source, resolve, None)
            _store(warehouse, table, files, None)
            # the files' checksums: a refetched, unchanged file leaves everything downstream current
            return dg.MaterializeResult(
                data_version=dg.DataVersion(files_checksum(files)), metadata=_meta(files, source)
            )
        unavailable: dict[str, str] = {}
        built: dict[str, list[SourceFile]] = {}
        for key in context.partition_keys:
            try:
                built[key] = _fetch(context, source, resolve, key)
            except SourceUnavailableError as gone:
                unavailable[key] = str(gone)
                context.log.warning(f"{table} [{key}] skipped, the source cannot supply it: {gone}")
                continue
            _store(warehouse, table, built[key], key)
        if not built:
            raise SourceUnavailableError("; ".join(unavailable.values()))
        for key, files in built.items():
            # each month its own data version (the checksum of its files), which a range's single output cannot give
            meta = {**_meta(files, source), **unavailable_metadata(unavailable)}
            record_partition(context, context.asset_key, key, meta, data_version=files_checksum(files))
        return already_recorded()

    return _asset


def _fetch(
    context: dg.AssetExecutionContext, source: SourceResource, resolve: Resolver, key: str | None
) -> list[SourceFile]:
    """The files of one period; a transient download failure asks Dagster to retry the step."""
    try:
        return resolve(source, key)
    except DownloadError as error:
        retry = retry_if_transient(error, context.retry_number, source)
        if retry is None:
            raise
        context.log.warning(f"{error}; retry {context.retry_number + 1} in {retry.seconds_to_wait:g} s")
        forget_unreachable_hosts()  # else the retry, in this process, would give up on the host without trying
        raise retry from error


def _store(warehouse: WarehouseResource, table: str, files: list[SourceFile], key: str | None) -> None:
    frame = source_files_frame(files).with_columns(partition_key=pl.lit(key or ""))
    with warehouse.get_connection() as con, transaction(con):
        replace_rows(
            con, table, frame, "partition_key = ?", [key or ""], ddl=dictionary.table("raw_files").ddl(f'"{table}"')
        )


def _meta(files: list[SourceFile], source: SourceResource) -> dict[str, object]:
    return {
        "dagster/row_count": len(files),
        "source_mode": source.mode,
        "files": dg.MetadataValue.md(
            "\n".join(
                f"- `{f.official_name}` ({f.bytes:,} bytes, sha256 `{f.sha256[:12]}…`, {f.origin}) from {f.url}"
                for f in files
            )
        ),
    }


def files_checksum(files: list[SourceFile]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: (f.product, f.period)):
        digest.update(f"{f.product}\0{f.period}\0{f.sha256}\n".encode())
    return digest.hexdigest()


def retry_if_transient(error: DownloadError, retry_number: int, source: SourceResource) -> dg.RetryRequested | None:
    """A retry of the step, with backoff, for a transient download failure (a timeout, a server error, a refused
    connection) while retries remain; None otherwise, so a file refused for what it is (wrong type, over a size
    cap, a host not allowed) or a parse error fails at once."""
    if not error.transient or retry_number >= source.step_retries:
        return None
    return dg.RetryRequested(
        max_retries=source.step_retries, seconds_to_wait=source.step_retry_seconds * 2**retry_number
    )


def record_files_used(
    con: duckdb.DuckDBPyConnection, dataset: str, partition_key: str | None, files: list[SourceFile]
) -> None:
    """Record the files a staged asset's tables now hold, in the transaction that writes them.

    `raw_<dataset>` lists what was fetched last, which may be a broken file whose staging failed; the published
    build_info lists what the published numbers were built from, so it reads this table."""
    frame = source_files_frame(files).drop("path").with_columns(partition_key=pl.lit(partition_key or ""))
    replace_rows(
        con,
        FILES_USED,
        frame,
        "dataset = ? AND partition_key = ?",
        [dataset, partition_key or ""],
        ddl=dictionary.table(FILES_USED).ddl(),
    )


def recorded_files(con: duckdb.DuckDBPyConnection, dataset: str, partition_key: str | None) -> list[SourceFile]:
    """The files the ingest asset fetched for this partition (what a staged asset should parse)."""
    table = f"raw_{dataset}"
    try:
        rows = con.execute(
            f'SELECT {", ".join(SOURCE_FILE_SCHEMA)} FROM "{table}" WHERE partition_key = ? ORDER BY product, period',
            [partition_key or ""],
        ).pl()
    except duckdb.CatalogException:
        rows = pl.DataFrame()
    if rows.is_empty():
        raise SourceUnavailableError(
            f"{table} has no files for partition {partition_key or '(unpartitioned)'}: materialise {table} first"
        )
    return [SourceFile(**{**row, "path": Path(row["path"])}) for row in rows.iter_rows(named=True)]


def partitions_with_files(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, dataset: str, label: str
) -> Iterator[tuple[str, list[SourceFile]]]:
    """Each of the run's partitions with the files the ingest asset fetched for it. A partition without files (the
    publisher lacks it) is logged and skipped; when no partition has files the step fails naming each one."""
    unavailable: dict[str, str] = {}
    for key in context.partition_keys:
        try:
            with warehouse.get_connection() as con:
                files = recorded_files(con, dataset, key)
        except SourceUnavailableError as gone:
            unavailable[key] = str(gone)
            context.log.warning(f"{label} [{key}] skipped: {gone}")
            continue
        yield key, files
    if len(unavailable) == len(context.partition_keys):
        raise SourceUnavailableError("; ".join(unavailable.values()))
