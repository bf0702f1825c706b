"""Factories for the asset checks every staged table gets."""

import dagster as dg

from pipeline import dictionary
from pipeline.warehouse import WarehouseResource, table_exists


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
    against expectations/<suite>.json and names the failing rows by their primary key."""
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
            frame = con.execute(f'SELECT * FROM "{table_name}" WHERE {where}', params).df()

        from pipeline.gx_validate import validate_frame  # lazy: GX takes ~2 s to import

        keys = list(dictionary.table(table_name).primary_key) if table_name in dictionary.all_tables() else []
        result = validate_frame(frame, suite_name, keys)
        failures = [f.describe() for f in result.failures]
        description = "; ".join(failures) if failures else f"all {result.evaluated} expectations passed"
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
