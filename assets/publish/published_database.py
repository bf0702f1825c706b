"""Build the researcher-facing DuckDB file and its Parquet copies, and swap them into place atomically.

The file is built beside the target under a temporary name, checked against the documented contract,
and only then renamed over the last good file, so a reader never sees a half-built database and a
failed run leaves the previous file untouched. The Parquet folder is exported from the checked file
into `parquet.tmp-<pid>` and exchanged with the previous folder right after the file is renamed.
"""

import os
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.raw_files import FILES_USED
from assets.publish.atomic import building_directory, fsync_directory, remove_stale_temps
from assets.publish.gate import verify_file
from pipeline import dictionary
from pipeline.errors import PublicationBlockedError
from pipeline.incremental import code_fingerprint
from pipeline.resources import PublishTargetResource, SourceResource
from pipeline.warehouse import WarehouseResource, sql_file, table_exists

BUILT_HERE = ("data_dictionary", "data_tables", "build_info")
VIEWS = ("v_trust_year",)  # created by views.sql, documented in data/dictionary like tables
PARQUET_DIR_NAME = "parquet"


def source_tables() -> list[str]:
    """Published tables that assets of earlier stages write to the warehouse."""
    return [doc.name for doc in dictionary.published_tables() if doc.name not in BUILT_HERE + VIEWS]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


FILE_COLUMNS = ["dataset", "product", "period", "official_name", "url", "sha256", "bytes", "fetched_at", "origin"]
REVISION_SCHEMA = {
    c: dictionary.table("build_info").polars_schema()[c]
    for c in ("replaced_earlier_file", "previous_sha256", "previous_official_name", "replaced_at")
}
FILE_KEY = ["dataset", "product", "period"]


def files_read(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every source file the staged tables were built from (`source_files_used`), one row per dataset, product,
    period."""
    if not table_exists(con, FILES_USED):
        used = dictionary.table(FILES_USED).polars_schema()
        return pl.DataFrame(schema={c: used[c] for c in FILE_COLUMNS})
    return con.sql(f"SELECT DISTINCT {', '.join(FILE_COLUMNS)} FROM {FILES_USED} ORDER BY ALL").pl()


def previous_build_info(published: Path) -> pl.DataFrame | None:
    """build_info of the last good published file, or None when there is none (or it cannot be read)."""
    if not published.exists():
        return None
    try:
        previous = duckdb.connect(str(published), read_only=True)
    except duckdb.Error:
        return None
    try:
        return previous.sql("SELECT * FROM build_info").pl()
    except duckdb.Error:
        return None
    finally:
        previous.close()


def with_revisions(current: pl.DataFrame, previous: pl.DataFrame | None, now: str) -> pl.DataFrame:
    """Mark each file that replaced a different file published earlier for the same dataset, product and period
    (a revised release such as an A&E `-revised` CSV, or a re-issued file), with the earlier checksum and name.

    A file published again unchanged keeps the record it had, so re-running a period changes nothing; a failed run
    publishes nothing, so a broken file that was never published is never recorded as a revision."""
    if previous is None or previous.is_empty():
        return current.with_columns(replaced_earlier_file=pl.lit(False)).with_columns(
            [pl.lit(None, dtype=t).alias(c) for c, t in REVISION_SCHEMA.items() if c != "replaced_earlier_file"]
        )
    earlier = previous.select(
        *FILE_KEY,
        pl.col("sha256").alias("earlier_sha256"),
        pl.col("official_name").alias("earlier_name"),
        *[
            (pl.col(c) if c in previous.columns else pl.lit(None, dtype=t)).cast(t).alias(f"earlier_{c}")
            for c, t in REVISION_SCHEMA.items()
        ],
    ).unique(FILE_KEY, keep="first")
    joined = current.join(earlier, on=FILE_KEY, how="left", maintain_order="left")
    unchanged = pl.col("earlier_sha256") == pl.col("sha256")
    replaced = pl.col("earlier_sha256").is_not_null() & ~unchanged
    return joined.select(
        *current.columns,
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


def build_database(
    con: duckdb.DuckDBPyConnection, target: Path, source_mode: str, previous: Path | None = None
) -> dict[str, int]:
    """Write every published table, ordered by its primary key, into a new file at `target`; `previous` is the
    last good published file, whose build_info says which source files are revisions."""
    con.execute(f"ATTACH {_quote(str(target))} AS pub")
    # one transaction: each statement of its own would commit (and fsync the WAL) once per table, comment and
    # dictionary row, about 900 times
    con.execute("BEGIN TRANSACTION")
    try:
        counts: dict[str, int] = {}
        for name in source_tables():
            doc = dictionary.table(name)
            order = ", ".join(f'"{k}"' for k in doc.primary_key) or "ALL"
            columns = ", ".join(f'"{c}"' for c in doc.columns)
            con.execute(f'CREATE TABLE pub."{name}" AS SELECT {columns} FROM main."{name}" ORDER BY {order}')
            counts[name] = con.sql(f'SELECT count(*) FROM pub."{name}"').fetchall()[0][0]

        now = datetime.now(UTC)
        files = with_revisions(
            files_read(con),
            previous_build_info(previous) if previous else None,
            now.isoformat(timespec="seconds"),
        )
        con.register("_files_read", files)
        try:
            con.execute(
                "CREATE TABLE pub.build_info AS SELECT ?::TIMESTAMP AS built_at, ? AS code_version, "
                "? AS code_fingerprint, ? AS source_mode, * FROM _files_read ORDER BY dataset, product, period",
                [now.replace(tzinfo=None), version("nhs-change-readiness"), code_fingerprint(), source_mode],
            )
        finally:
            con.unregister("_files_read")
        counts["build_info"] = con.sql("SELECT count(*) FROM pub.build_info").fetchall()[0][0]

        con.execute(sql_file(__file__, "views.sql").replace("{db}", "pub"))
        for view in VIEWS:
            counts[view] = con.sql(f'SELECT count(*) FROM pub."{view}"').fetchall()[0][0]
        _write_dictionary(con, counts)
        con.execute("COMMIT")
        con.execute("CHECKPOINT pub")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DETACH pub")
    return counts


def _write_dictionary(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> None:
    """data_dictionary, data_tables and every COMMENT ON, all from data/dictionary (types as declared there; the
    publication gate then checks that every built column has its declared type)."""
    for name in ("data_dictionary", "data_tables"):
        con.execute(dictionary.table(name).ddl(f'pub."{name}"', if_not_exists=False))
    counts["data_dictionary"] = sum(len(d.columns) for d in dictionary.published_tables())
    counts["data_tables"] = len(dictionary.published_tables())
    for doc in dictionary.published_tables():
        con.executemany(
            "INSERT INTO pub.data_dictionary VALUES (?, ?, ?, ?)",
            [(doc.name, col, doc.types[col], text) for col, text in doc.columns.items()],
        )
        con.execute(
            "INSERT INTO pub.data_tables VALUES (?, ?, ?, ?, ?)",
            [doc.name, doc.description, doc.grain, ", ".join(doc.primary_key), counts.get(doc.name)],
        )
        for statement in doc.comment_statements(f'pub."{doc.name}"'):
            con.execute(statement)


def parquet_directory(target: Path) -> Path:
    return target.parent / PARQUET_DIR_NAME


def export_parquet(database: Path, directory: Path) -> dict[str, int]:
    """Every published table as `<table>.parquet`, rows ordered by its primary key. One thread, so row groups,
    and therefore the bytes, come out the same on every run with the same data."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        con.execute("SET threads TO 1")
        files: dict[str, int] = {}
        for doc in dictionary.published_tables():
            order = ", ".join(f'"{k}"' for k in doc.primary_key) or "ALL"
            path = directory / f"{doc.name}.parquet"
            con.execute(
                f'COPY (SELECT * FROM "{doc.name}" ORDER BY {order}) TO {_quote(str(path))} '
                "(FORMAT parquet, COMPRESSION zstd)"
            )
            files[doc.name] = path.stat().st_size
        return files
    finally:
        con.close()


def publish_atomically(con: duckdb.DuckDBPyConnection, target: Path, source_mode: str) -> dict[str, int]:
    """Build into a temp file beside `target`, verify it, export its Parquet copies, then swap both into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temp.unlink(missing_ok=True)
    try:
        counts = build_database(con, temp, source_mode, previous=target)
        problems = verify_file(temp)
        if problems:
            raise PublicationBlockedError(
                "the new build breaks the published contract, so the last good file was kept: " + "; ".join(problems)
            )
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        with building_directory(parquet_directory(target)) as parquet_temp:
            export_parquet(temp, parquet_temp)
            os.replace(temp, target)
            fsync_directory(target.parent)
    finally:
        temp.unlink(missing_ok=True)
        temp.with_name(temp.name + ".wal").unlink(missing_ok=True)
    return counts


@dg.asset(
    group_name="publish",
    deps=[dg.AssetKey(name) for name in source_tables()],
    kinds={"duckdb"},
    description=(
        "The researcher-facing DuckDB file data/published/nhs_change_readiness.duckdb: every published table, "
        "the data dictionary and build_info, built in a temporary file and renamed into place atomically; "
        "plus one Parquet file per published table in data/published/parquet/, swapped in with it."
    ),
)
def published_database(
    warehouse: WarehouseResource, source: SourceResource, publish_target: PublishTargetResource
) -> dg.MaterializeResult:
    target = publish_target.database_path
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target.parent, f".{target.name}.tmp-*")  # a killed run's
    with warehouse.get_connection() as con:
        missing = [t for t in source_tables() if not table_exists(con, t)]
        if missing:
            raise PublicationBlockedError(f"tables {missing} have not been built; the last good file was kept")
        counts = publish_atomically(con, target, source.mode)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "bytes": target.stat().st_size,
            "parquet_dir": dg.MetadataValue.path(str(parquet_directory(target))),
            "parquet_bytes": sum(p.stat().st_size for p in parquet_directory(target).glob("*.parquet")),
            "tables": dg.MetadataValue.json(counts),
        }
    )
