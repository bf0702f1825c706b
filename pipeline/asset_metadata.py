"""Metadata that every table-writing asset shows in the Dagster UI."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import duckdb

from pipeline import dictionary
from pipeline.warehouse import column_types, row_count


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE", params: Sequence[Any] = ()
) -> dict[str, Any]:
    """Row count (of the partition, when `where` selects one) and the column schema: every column the table has,
    with its DuckDB type as the table holds it and its description from the data dictionary."""
    return {
        "dagster/row_count": row_count(con, table, where, params),
        "table_rows_total": row_count(con, table),
        "dagster/column_schema": table_schema(con, table),
    }


def table_schema(con: duckdb.DuckDBPyConnection, table: str) -> dg.TableSchema:
    described = dictionary.table(table).columns if table in dictionary.all_tables() else {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=dtype, description=described.get(name))
            for name, dtype in column_types(con, table).items()
        ]
    )
