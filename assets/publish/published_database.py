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

from assets.publish.atomic import building_directory, fsync_directory, remove_stale_temps
from assets.publish.gate import verify_file
from pipeline import dictionary
from pipeline.errors import PublicationBlockedError
from pipeline.incremental import code_fingerprint, fingerprint, is_current, mark_built, upstream_fingerprint
from pipeline.resources import PublishTargetResource, SourceResource
from pipeline.warehouse import WarehouseResource, sql_file, table_exists, transaction

BUILT_HERE = ("data_dictionary", "data_tables", "build_info")
VIEWS = ("v_trust_year",)  # created by views.sql, documented in data/dictionary like tables
PARQUET_DIR_NAME = "parquet"


def source_tables() -> list[str]:
    """Published tables that assets of earlier stages write to the warehouse."""
    return [doc.name for doc in dictionary.published_tables() if doc.name not in BUILT_HERE + VIEWS]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_name LIKE 'raw\\_%' ESCAPE '\\' ORDER BY 1"
        ).fetchall()
    ]


def build_database(con: duckdb.DuckDBPyConnection, target: Path, source_mode: str) -> dict[str, int]:
    """Write every published table, ordered by its primary key, into a new file at `target`."""
    con.execute(f"ATTACH {_quote(str(target))} AS pub")
    try:
        counts: dict[str, int] = {}
        for name in source_tables():
            doc = dictionary.table(name)
            order = ", ".join(f'"{k}"' for k in doc.primary_key) or "ALL"
            columns = ", ".join(f'"{c}"' for c in doc.columns)
            con.execute(f'CREATE TABLE pub."{name}" AS SELECT {columns} FROM main."{name}" ORDER BY {order}')
            counts[name] = con.sql(f'SELECT count(*) FROM pub."{name}"').fetchall()[0][0]

        raw = _raw_tables(con)
        files_sql = " UNION ALL ".join(f'SELECT * EXCLUDE (partition_key, path) FROM main."{t}"' for t in raw)
        con.execute(
            "CREATE TABLE pub.build_info AS SELECT ?::TIMESTAMP AS built_at, ? AS code_version, "
            "? AS code_fingerprint, ? AS source_mode, dataset, product, period, official_name, url, sha256, "
            f"bytes, fetched_at, origin FROM ({files_sql or 'SELECT NULL AS dataset LIMIT 0'}) "
            "GROUP BY ALL ORDER BY dataset, product, period",
            [
                datetime.now(UTC).replace(tzinfo=None),
                version("nhs-change-readiness"),
                code_fingerprint(),
                source_mode,
            ],
        )
        counts["build_info"] = con.sql("SELECT count(*) FROM pub.build_info").fetchall()[0][0]

        con.execute(sql_file(__file__, "views.sql").replace("{db}", "pub"))
        for view in VIEWS:
            counts[view] = con.sql(f'SELECT count(*) FROM pub."{view}"').fetchall()[0][0]
        _write_dictionary(con, counts)
        con.execute("CHECKPOINT pub")
    finally:
        con.execute("DETACH pub")
    return counts


def _write_dictionary(con: duckdb.DuckDBPyConnection, counts: dict[str, int]) -> None:
    con.execute(
        "CREATE TABLE pub.data_dictionary(table_name VARCHAR, column_name VARCHAR, data_type VARCHAR, "
        "description VARCHAR)"
    )
    con.execute(
        "CREATE TABLE pub.data_tables(table_name VARCHAR, description VARCHAR, grain VARCHAR, "
        "primary_key VARCHAR, row_count BIGINT)"
    )
    counts["data_dictionary"] = sum(len(d.columns) for d in dictionary.published_tables())
    counts["data_tables"] = len(dictionary.published_tables())
    for doc in dictionary.published_tables():
        types = dict(
            con.sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_catalog = 'pub' AND table_name = ?",
                params=[doc.name],
            ).fetchall()
        )
        con.executemany(
            "INSERT INTO pub.data_dictionary VALUES (?, ?, ?, ?)",
            [(doc.name, col, types.get(col), text) for col, text in doc.columns.items()],
        )
        con.execute(
            "INSERT INTO pub.data_tables VALUES (?, ?, ?, ?, ?)",
            [doc.name, doc.description, doc.grain, ", ".join(doc.primary_key), counts.get(doc.name)],
        )
        con.execute(f'COMMENT ON TABLE pub."{doc.name}" IS {_quote(doc.description)}')
        for col, text in doc.columns.items():
            con.execute(f'COMMENT ON COLUMN pub."{doc.name}"."{col}" IS {_quote(text)}')


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


def parquet_complete(directory: Path) -> bool:
    return all((directory / f"{doc.name}.parquet").exists() for doc in dictionary.published_tables())


def publish_atomically(con: duckdb.DuckDBPyConnection, target: Path, source_mode: str) -> dict[str, int]:
    """Build into a temp file beside `target`, verify it, export its Parquet copies, then swap both into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    temp.unlink(missing_ok=True)
    try:
        counts = build_database(con, temp, source_mode)
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
    remove_stale_temps(target.parent, f".{target.name}.tmp-*")  # a killed run's, even when nothing is rebuilt
    with warehouse.get_connection() as con:
        fp = fingerprint(
            "published_database", upstream_fingerprint(con, source_tables() + _raw_tables(con)), source.mode
        )
        fresh = (
            target.exists()
            and parquet_complete(parquet_directory(target))
            and is_current(con, "published_database", None, fp)
            and not verify_file(target)
        )
        if not fresh:
            missing = [t for t in source_tables() if not table_exists(con, t)]
            if missing:
                raise PublicationBlockedError(f"tables {missing} have not been built; the last good file was kept")
            counts = publish_atomically(con, target, source.mode)
            with transaction(con):
                mark_built(con, "published_database", None, fp)
    metadata = {
        "path": dg.MetadataValue.path(str(target)),
        "bytes": target.stat().st_size,
        "parquet_dir": dg.MetadataValue.path(str(parquet_directory(target))),
        "parquet_bytes": sum(p.stat().st_size for p in parquet_directory(target).glob("*.parquet")),
        "reused_unchanged_inputs": fresh,
    }
    if not fresh:
        metadata["tables"] = dg.MetadataValue.json(counts)
    return dg.MaterializeResult(metadata=metadata)
