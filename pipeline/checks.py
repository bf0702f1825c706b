"""Factories for the asset checks every staged table gets."""

from datetime import UTC, datetime

import dagster as dg
import duckdb

from pipeline import dictionary
from pipeline.incremental import fingerprint
from pipeline.settings import EXPECTATIONS_DIR
from pipeline.warehouse import WarehouseResource, table_exists, transaction

CHECK_STATE = "_check_state"


def _partition_filter(
    context: dg.AssetCheckExecutionContext, column: str | None, sql_type: str
) -> tuple[str, list[str]]:
    if column is None or not (context.has_partition_key or context.has_partition_key_range):
        return "TRUE", []
    # a single-partition run has a partition key but no key range
    rng = context.partition_key_range if context.has_partition_key_range else None
    if rng is None:
        return f'"{column}" = CAST(? AS {sql_type})', [context.partition_key]
    return f'"{column}" BETWEEN CAST(? AS {sql_type}) AND CAST(? AS {sql_type})', [rng.start, rng.end]


def _rows_digest(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list[str]) -> str:
    """An order-independent digest of the rows being validated (DuckDB's row hash, summed)."""
    count, total = con.sql(
        f'SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM (SELECT * FROM "{table}" WHERE {where}) t',
        params=params,
    ).fetchall()[0]
    return f"{count}:{total}"


def _passed_before(con: duckdb.DuckDBPyConnection, check: str, key: str) -> tuple[str, str] | None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {CHECK_STATE}(check_name VARCHAR, digest VARCHAR, description VARCHAR, "
        "checked_at TIMESTAMP, PRIMARY KEY (check_name, digest))"
    )
    rows = con.sql(
        f"SELECT description, checked_at::VARCHAR FROM {CHECK_STATE} WHERE check_name = ? AND digest = ?",
        params=[check, key],
    ).fetchall()
    return rows[0] if rows else None


def _remember_pass(con: duckdb.DuckDBPyConnection, check: str, key: str, description: str) -> None:
    with transaction(con):
        con.execute(
            f"INSERT OR REPLACE INTO {CHECK_STATE} VALUES (?, ?, ?, ?)",
            [check, key, description, datetime.now(UTC).replace(tzinfo=None)],
        )


def gx_check(
    asset: dg.AssetsDefinition | dg.AssetKey | str,
    *,
    table: str | None = None,
    suite: str | None = None,
    partition_column: str | None = None,
    partition_sql_type: str = "VARCHAR",
    blocking: bool = True,
) -> dg.AssetChecksDefinition:
    """A blocking check that validates the asset's table (only the partitions being materialised)
    against expectations/<suite>.json and names the failing rows by their primary key.

    Rows identical to rows that passed the same suite before (same code, same suite file) are not validated
    again: a rerun with nothing changed then never even imports Great Expectations. Failures always rerun."""
    asset_key = asset.key if isinstance(asset, dg.AssetsDefinition) else dg.AssetKey.from_coercible(asset)
    table_name = table or asset_key.path[-1]
    suite_name = suite or table_name
    check_name = f"{suite_name}_expectations"

    @dg.asset_check(
        asset=asset_key,
        name=check_name,
        blocking=blocking,
        description=(
            f"Great Expectations suite expectations/{suite_name}.json (generated from "
            f"data/dictionary/{suite_name}.yaml) on table {table_name}."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        where, params = _partition_filter(context, partition_column, partition_sql_type)
        with warehouse.get_connection() as con:
            if not table_exists(con, table_name):
                return dg.AssetCheckResult(
                    passed=False, description=f"table {table_name} does not exist in the warehouse"
                )
            suite_text = (EXPECTATIONS_DIR / f"{suite_name}.json").read_text(encoding="utf-8")
            key = fingerprint(
                check_name, table_name, where, params, suite_text, _rows_digest(con, table_name, where, params)
            )
            earlier = _passed_before(con, check_name, key)
            if earlier:
                description, checked_at = earlier
                return dg.AssetCheckResult(
                    passed=True,
                    description=f"{description} (rows unchanged since they passed at {checked_at} UTC)",
                    metadata={"suite": f"expectations/{suite_name}.json", "reused_earlier_result": True},
                )
            frame = con.sql(f'SELECT * FROM "{table_name}" WHERE {where}', params=params).df()

        from pipeline.gx_validate import validate_frame  # lazy: GX takes ~2 s to import

        keys = list(dictionary.table(table_name).primary_key) if table_name in dictionary.all_tables() else []
        result = validate_frame(frame, suite_name, keys)
        failures = [f.describe() for f in result.failures]
        description = "; ".join(failures) if failures else f"all {result.evaluated} expectations passed"
        if result.passed:
            with warehouse.get_connection() as con:
                _remember_pass(con, check_name, key, description)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata={
                "suite": f"expectations/{suite_name}.json",
                "rows_validated": len(frame),
                "expectations_evaluated": result.evaluated,
                "expectations_failed": len(result.failures),
                "failures": dg.MetadataValue.json(
                    [
                        {
                            "expectation": f.expectation,
                            "column": f.column,
                            "severity": f.severity,
                            "unexpected_count": f.unexpected_count,
                            "rows": f.rows,
                        }
                        for f in result.failures
                    ]
                ),
            },
        )

    return _check
