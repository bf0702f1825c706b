"""Metadata that every table-writing asset shows in the Dagster UI."""

from collections.abc import Sequence
from typing import Any

import dagster as dg
import duckdb

from pipeline import dictionary, incremental
from pipeline.warehouse import column_types, row_count, table_exists


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, where: str = "TRUE", params: Sequence[Any] = ()
) -> dict[str, Any]:
    """Row count (of the partition, when `where` selects one) and the column schema with types and descriptions."""
    doc = dictionary.table(table)
    return {
        "dagster/row_count": row_count(con, table, where, params),
        "table_rows_total": row_count(con, table),
        "dagster/column_schema": doc.column_schema(column_types(con, table)),
    }


def up_to_date(
    con: duckdb.DuckDBPyConnection, asset: str, partition: str | None, fp: str, tables: Sequence[str]
) -> bool:
    return all(table_exists(con, t) for t in tables) and incremental.is_current(con, asset, partition, fp)


def reused(metadata: dict[str, Any]) -> dg.MaterializeResult:
    """Result for an asset whose inputs are unchanged since its last build."""
    return dg.MaterializeResult(metadata={**metadata, "reused_unchanged_inputs": True})
