"""`nhs-readiness query`: researcher SQL against the published file, which it may read and nothing else.

Two layers, so that neither alone has to be perfect. DuckDB's parser classifies each statement and the ones that
write or reach outside the file (COPY, EXPORT, ATTACH/DETACH, INSTALL/LOAD) are refused by type before anything
runs. The connection itself is opened read-only with `enable_external_access=false` and a locked configuration,
so any file, directory or URL access that a SELECT attempts (read_csv, read_parquet, glob, a quoted path,
httpfs) fails inside DuckDB; that failure is reported as a refusal too. `allow_local_files` lifts only the
second layer (the researcher's own files may be read); extension loading stays off either way.
"""

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

# statement types that write outside the published file or change what the connection can reach
REFUSED = {
    duckdb.StatementType.COPY: "COPY writes or reads files",
    duckdb.StatementType.EXPORT: "EXPORT DATABASE writes files",
    duckdb.StatementType.ATTACH: "ATTACH opens another database",
    duckdb.StatementType.DETACH: "DETACH changes the attached databases",
    duckdb.StatementType.LOAD: "INSTALL/LOAD adds extensions",
}


class QueryRefused(Exception):
    """A statement the query command does not run (exit code 2)."""


class QueryFailed(Exception):
    """A statement DuckDB rejected or could not run (exit code 1)."""


@dataclass(frozen=True)
class QueryResult:
    frame: pl.DataFrame | None  # None: the last statement returned no result set

    @property
    def done(self) -> bool:
        return self.frame is None


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def refusal(sql: str) -> str | None:
    """Why the first refused statement in `sql` may not run, or None when every statement may."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryFailed(one_line(error)) from None
    if not statements:
        raise QueryFailed("no SQL statement given")
    for statement in statements:
        reason = REFUSED.get(statement.type)
        if reason:
            return f"{statement.type.name} is refused: {reason}; query only reads the published file"
    return None


def connect(path: Path, *, allow_local_files: bool) -> duckdb.DuckDBPyConnection:
    config = {
        "enable_external_access": allow_local_files,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "lock_configuration": True,
    }
    try:
        return duckdb.connect(str(path), read_only=True, config=config)
    except duckdb.Error as error:
        raise QueryFailed(f"cannot open {path}: {one_line(error)}") from None


def run_query(path: Path, sql: str, *, allow_local_files: bool = False) -> QueryResult:
    """Run every statement of `sql`; the result is the last statement's result set (None when it has none)."""
    reason = refusal(sql)
    if reason:
        raise QueryRefused(reason)
    con = connect(path, allow_local_files=allow_local_files)
    try:
        relation = None
        for statement in duckdb.extract_statements(sql):
            relation = con.sql(statement.query)
        return QueryResult(None if relation is None else relation.pl())
    except duckdb.PermissionException as error:
        raise QueryRefused(
            f"{one_line(error)}; query reads only the published file (--allow-local-files reads your own files)"
        ) from None
    except duckdb.Error as error:
        # DuckDB's own refusals: a write into the read-only file, a change to the locked settings
        if any(marker in str(error) for marker in ("read-only mode", "configuration has been locked")):
            raise QueryRefused(f"{one_line(error)}; query only reads the published file") from None
        raise QueryFailed(one_line(error)) from None
    except (pl.exceptions.PolarsError, ValueError, TypeError) as error:  # a result type Polars cannot hold
        raise QueryFailed(f"cannot show the result: {one_line(error)}") from None
    finally:
        con.close()
