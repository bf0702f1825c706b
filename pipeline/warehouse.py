"""The private working DuckDB file that assets write to (one writer: the pipeline).

Researchers never open this file; they read the published copy (see assets/publish).
"""

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
from dagster_duckdb import DuckDBResource

from pipeline.settings import local_path


class WarehouseBusyError(dg.Failure):
    """Another process has the warehouse open (DuckDB allows one writing process per file)."""


def _busy_error(path: Path, error: duckdb.IOException) -> WarehouseBusyError | None:
    """DuckDB's refusal of a file another process holds, as one line naming that process; None for other errors."""
    held = re.search(r"Conflicting lock is held in (.*) \(PID (\d+)\)", str(error))
    if held is None:
        return None
    program, pid = held.groups()
    return WarehouseBusyError(
        f"the warehouse {path} is open in another process (PID {pid}, {Path(program).name}), such as a run started "
        "from the Dagster UI or the daemon; nothing was changed. Run again when it has finished."
    )


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connection is closed even when the body raises.

    The upstream resource leaves the connection open on error, which blocks any later
    read-only connection to the same file in this process.
    """

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        path = local_path(self.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(path), config=dict(self.connection_config or {}))
        except duckdb.IOException as error:
            busy = _busy_error(path, error)
            if busy is None:
                raise
            raise busy from None
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def kept_open(self) -> Iterator[None]:
        """Keep the database open while a build runs in this process. Every asset and check opens its own
        connection; while one stays open DuckDB shares its database instance with them, instead of loading the
        catalogue and checkpointing for each connection (about 20 ms apiece, some 180 times a build)."""
        with self.get_connection():
            yield


def sql_file(module_file: str | Path, name: str) -> str:
    """Read a .sql file that sits beside the module that runs it."""
    return (Path(module_file).parent / name).read_text(encoding="utf-8")


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    ]


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table in table_names(con)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Everything written inside commits together or not at all (tables and build state alike)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Replace a whole table with a frame. Call inside `transaction()` when other writes go with it."""
    con.register("_incoming", frame)
    try:
        con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")
    return frame.height


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    where: str,
    params: Sequence[Any] = (),
    ddl: str | None = None,
) -> int:
    """Replace the rows matching `where` (one partition) with `frame`. Call inside `transaction()`.

    `ddl` creates the table on first use; without it the table takes the frame's schema.
    """
    con.register("_incoming", frame)
    try:
        if ddl:
            con.execute(ddl)
        elif not table_exists(con, table):
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming LIMIT 0')
        con.execute(f'DELETE FROM "{table}" WHERE {where}', list(params))
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")
    return frame.height


def row_count(con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE", params: Sequence[Any] = ()) -> int:
    return int(con.execute(f'SELECT count(*) FROM "{table}" WHERE {where}', list(params)).fetchall()[0][0])


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: dtype for name, dtype in rows}
