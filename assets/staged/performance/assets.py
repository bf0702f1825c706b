"""Combined performance tables: the measure catalogue, trust × month measures, financial years, unmatched rows."""

import dagster as dg
import duckdb
import polars as pl

from assets.staged.ae.assets import ae_monthly
from assets.staged.cancer.assets import cancer_monthly
from assets.staged.ods.assets import ods_trusts
from assets.staged.performance.annual_rules import add_reporting_sectors, apply_exclusions
from assets.staged.performance.mergers import detect_denominator_jumps
from assets.staged.performance.staging import staged_ddl
from assets.staged.rtt.assets import rtt_monthly
from assets.staged.sickness.assets import sickness_monthly
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, sql_file, transaction

STAGED = [ae_monthly, rtt_monthly, cancer_monthly, sickness_monthly]
STAGED_TABLES = [a.key.path[-1] for a in STAGED]
MEASURE_TYPES = {"numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64}


def _doc_kwargs(table: str) -> dict[str, object]:
    doc = dictionary.table(table)
    return {"description": doc.description, "metadata": doc.dagster_metadata(), "group_name": "staged"}


def staged_union(con: duckdb.DuckDBPyConnection) -> str:
    """Every staged performance table; a dataset with no month built yet (all its files unavailable so far)
    contributes an empty table of the same shape, and shows as absent in the coverage metadata."""
    for table in STAGED_TABLES:
        con.execute(staged_ddl(table))
    return " UNION ALL BY NAME ".join(f'SELECT * FROM "{t}"' for t in STAGED_TABLES)


def _rebuild(warehouse: WarehouseResource, table: str, build_sql: str) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        con.register("ods_code_table", read_reference("ods_code_table"))
        try:
            frame = con.sql(build_sql.replace("{staged}", staged_union(con))).pl()
        finally:
            con.unregister("ods_code_table")
        with transaction(con):
            replace_table(con, table, frame)
        return dg.MaterializeResult(metadata=table_metadata(con, table))


@dg.asset(deps=[], kinds={"duckdb"}, **_doc_kwargs("performance_measures"))
def performance_measures(warehouse: WarehouseResource) -> dg.MaterializeResult:
    frame = read_reference("performance_measures")
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "performance_measures", frame)
        return dg.MaterializeResult(metadata=table_metadata(con, "performance_measures"))


@dg.asset(deps=[*STAGED, ods_trusts, performance_measures], kinds={"duckdb"}, **_doc_kwargs("performance_monthly"))
def performance_monthly(warehouse: WarehouseResource) -> dg.MaterializeResult:
    result = _rebuild(
        warehouse,
        "performance_monthly",
        sql_file(__file__, "performance_monthly.sql"),
    )
    with warehouse.get_connection() as con:
        months = con.sql(
            "SELECT dataset, count(DISTINCT period_month), min(period_month)::VARCHAR, max(period_month)::VARCHAR, "
            "count(DISTINCT org_code) FROM performance_monthly GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    coverage = {d: {"months": n, "from": a, "to": b, "trusts": t} for d, n, a, b, t in months}
    return dg.MaterializeResult(metadata={**(result.metadata or {}), "coverage": dg.MetadataValue.json(coverage)})


@dg.asset(deps=[performance_monthly], kinds={"duckdb"}, **_doc_kwargs("performance_denominator_jumps"))
def performance_denominator_jumps(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        monthly = con.sql("SELECT * FROM performance_monthly").pl()
        frame = detect_denominator_jumps(monthly, read_reference("merger_detection"))
        with transaction(con):
            replace_table(con, "performance_denominator_jumps", frame)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "performance_denominator_jumps"),
                "jumps": dg.MetadataValue.md(
                    "\n".join(
                        f"- {r['org_code']} {r['dataset']} {r['period_month']}: {r['change_share']:+.0%}, {r['action']}"
                        for r in frame.iter_rows(named=True)
                    )
                    or "none"
                ),
            }
        )


@dg.asset(
    deps=[performance_monthly, performance_denominator_jumps, performance_measures],
    kinds={"duckdb", "polars"},
    **_doc_kwargs("performance_annual"),
)
def performance_annual(warehouse: WarehouseResource) -> dg.MaterializeResult:
    sql = sql_file(__file__, "performance_annual.sql")
    with warehouse.get_connection() as con:
        summed = con.sql(sql).pl()
        jumps = con.sql("SELECT * FROM performance_denominator_jumps").pl()
        measure_datasets = read_reference("performance_measures").select("measure", "dataset")
        ruled = apply_exclusions(summed, read_reference("performance_annual_rules"), jumps, measure_datasets)
        frame = add_reporting_sectors(ruled, read_reference("reporting_sectors"), measure_datasets).drop(
            "months_with_denominator"
        )
        with transaction(con):
            replace_table(con, "performance_annual", frame)
        reasons = frame.filter(pl.col("excluded_reason").is_not_null()).group_by("measure").len().sort("measure")
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "performance_annual"),
                "excluded_values": dg.MetadataValue.json(dict(reasons.iter_rows())),
            }
        )


@dg.asset(deps=[*STAGED, performance_measures], kinds={"duckdb"}, **_doc_kwargs("performance_unmatched"))
def performance_unmatched(warehouse: WarehouseResource) -> dg.MaterializeResult:
    result = _rebuild(
        warehouse,
        "performance_unmatched",
        sql_file(__file__, "performance_unmatched.sql"),
    )
    with warehouse.get_connection() as con:
        by_dataset = dict(
            con.sql(
                "SELECT dataset, count(DISTINCT reported_org_code) FROM performance_unmatched GROUP BY ALL"
            ).fetchall()
        )
    return dg.MaterializeResult(
        metadata={**(result.metadata or {}), "unmatched_organisations": dg.MetadataValue.json(by_dataset)}
    )


performance_monthly_expectations = gx_check(performance_monthly)
performance_annual_expectations = gx_check(performance_annual)
