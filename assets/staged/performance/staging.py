"""Factory for the monthly partitioned staged asset of each performance dataset, and its asset checks.

Every dataset stages the same long shape (one row per provider, month and measure, matched or not to an
ODS trust) into its own table, plus the file's own England total row(s) into `performance_file_totals`.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.raw_files import partitions_with_files, record_files_used
from assets.staged.ods.assets import ods_trusts
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.organisations import UNMATCHED, code_table_codes, match_organisations
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.partition_events import already_recorded, record_partition
from pipeline.reference import read_reference
from pipeline.sources import SourceFile
from pipeline.warehouse import WarehouseResource, replace_rows, transaction

FILE_TOTALS = "performance_file_totals"


def staged_ddl(table: str) -> str:
    """CREATE TABLE of a staged monthly table (ae_monthly, rtt_monthly, ...), from the data dictionary."""
    return dictionary.table(table).ddl()


# counts summed over providers must equal the file's own total exactly; halves and floats make 1e-6 ample
TOLERANCE = 1e-6

Parser = Callable[[list[SourceFile], date], ParsedMonth]


def england_sql(table: str) -> str:
    """England per month and measure from provider rows (all of them, matched or not)."""
    return f"""
        SELECT period_month, measure, sum(numerator) AS numerator,
               CASE WHEN count(denominator) > 0 THEN sum(denominator) END AS denominator,
               CASE WHEN count(denominator) > 0 THEN 100 * sum(numerator) / nullif(sum(denominator), 0)
                    ELSE sum(numerator) END AS value
        FROM "{table}" WHERE period_month BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL"""


def _month_metadata(con: duckdb.DuckDBPyConnection, table: str, dataset: str, month: date) -> dict[str, Any]:
    organisations = con.execute(
        f"""SELECT match_status = '{UNMATCHED}' AS unmatched, reported_org_code, any_value(reported_org_name)
            FROM "{table}" WHERE period_month = ? GROUP BY ALL ORDER BY ALL""",
        [month],
    ).fetchall()
    unmatched = [(code, name) for flag, code, name in organisations if flag]
    england = con.execute(england_sql(table), [month, month]).pl().drop("period_month")
    file_totals = con.execute(
        f"SELECT measure, numerator, denominator, value FROM {FILE_TOTALS} "
        "WHERE dataset = ? AND period_month = ? ORDER BY measure",
        [dataset, month],
    ).pl()
    months = con.sql(f'SELECT count(DISTINCT period_month), min(period_month), max(period_month) FROM "{table}"')
    count, first, last = months.fetchall()[0]
    files = con.execute(f'SELECT DISTINCT source_file FROM "{table}" WHERE period_month = ?', [month]).fetchall()
    return {
        **table_metadata(con, table, "period_month = ?", [month]),
        "organisations_matched": len(organisations) - len(unmatched),
        "organisations_unmatched": len(unmatched),
        "unmatched_organisations": dg.MetadataValue.md(
            "\n".join(f"- `{code}` {name}" for code, name in unmatched) or "none"
        ),
        "months_covered": count,
        "months_range": f"{first} to {last}",
        "england_from_providers": dg.MetadataValue.json(england.to_dicts()),
        "england_in_file": dg.MetadataValue.json(file_totals.to_dicts() if file_totals.height else "no total row"),
        "source_files": ", ".join(f for (f,) in files),
        "revised_file": any("revised" in f.lower() for (f,) in files),
    }


def staged_performance_asset(
    *, dataset: str, raw_asset: dg.AssetsDefinition, partitions_def: dg.PartitionsDefinition, parse: Parser
) -> dg.AssetsDefinition:
    """Asset `<dataset>_monthly`: parse the partition's file(s), match providers to ODS trusts, replace the month."""
    table = f"{dataset}_monthly"
    doc = dictionary.table(table)

    @dg.asset(
        name=table,
        group_name="staged",
        partitions_def=partitions_def,
        # every month of a backfill in one run, each in its own transaction (docs/decisions.md)
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_type=dg.Nothing,  # the table is the output: no IO manager
        deps=[raw_asset, ods_trusts],
        description=doc.description,
        metadata=doc.dagster_metadata(),
        kinds={"polars", "duckdb"},
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.Output:
        with warehouse.get_connection() as con:
            trust_codes = con.sql("SELECT org_code FROM ods_trusts").pl()["org_code"]
        for key, files in partitions_with_files(context, warehouse, dataset, table):
            meta = _stage_month(warehouse, table, dataset, parse, files, trust_codes, date.fromisoformat(key))
            # recorded as soon as the month is committed, so a later month's failure leaves it truthfully built
            record_partition(context, context.asset_key, key, meta)
        return already_recorded()

    return _asset


def _stage_month(
    warehouse: WarehouseResource,
    table: str,
    dataset: str,
    parse: Parser,
    files: list[SourceFile],
    trust_codes: pl.Series,
    month: date,
) -> dict[str, Any]:
    """Parse one month's files completely, then replace the month in one transaction; the month's metadata."""
    # parse completely before writing anything: a bad file leaves every stored month as it was
    parsed = parse(files, month)
    staged = match_organisations(
        parsed.measures, trust_codes, read_reference("org_successors"), month, code_table_codes()
    )
    staged = staged.with_columns(period_month=pl.lit(month))
    totals = parsed.file_totals.with_columns(dataset=pl.lit(dataset), period_month=pl.lit(month))
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_rows(con, table, staged, "period_month = ?", [month], ddl=staged_ddl(table))
            replace_rows(
                con,
                FILE_TOTALS,
                totals,
                "dataset = ? AND period_month = ?",
                [dataset, month],
                ddl=dictionary.table(FILE_TOTALS).ddl(),
            )
            record_files_used(con, dataset, month.isoformat(), files)
        return _month_metadata(con, table, dataset, month)


def _partition_months(context: dg.AssetCheckExecutionContext) -> tuple[date, date]:
    if context.has_partition_key_range:
        rng = context.partition_key_range
        return date.fromisoformat(rng.start), date.fromisoformat(rng.end)
    return date(1, 1, 1), date(9999, 12, 1)


def england_total_check(asset: dg.AssetsDefinition, dataset: str) -> dg.AssetChecksDefinition:
    """Blocking check: England summed from provider rows equals the file's own England/TOTAL row."""
    table = asset.key.path[-1]

    @dg.asset_check(
        asset=asset,
        name=f"{table}_england_matches_file_total",
        blocking=True,
        description=(
            "Numerators and denominators summed over every provider row equal the file's own England "
            "(TOTAL / ALL ENGLISH PROVIDERS) row for each measure, so no provider was lost or double counted."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        first, last = _partition_months(context)
        with warehouse.get_connection() as con:
            computed = con.execute(england_sql(table), [first, last]).pl()
            in_file = con.execute(
                f"SELECT period_month, measure, numerator, denominator FROM {FILE_TOTALS} "
                "WHERE dataset = ? AND period_month BETWEEN ? AND ?",
                [dataset, first, last],
            ).pl()
        if in_file.is_empty():
            return dg.AssetCheckResult(passed=True, description="the file has no England total row to compare with")
        compared = in_file.join(computed, on=["period_month", "measure"], how="left", suffix="_providers")
        wrong = compared.filter(
            pl.col("numerator_providers").is_null()
            | ((pl.col("numerator") - pl.col("numerator_providers")).abs() > TOLERANCE)
            | ((pl.col("denominator") - pl.col("denominator_providers")).abs() > TOLERANCE)
        )
        return dg.AssetCheckResult(
            passed=wrong.is_empty(),
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{compared.height} England figure(s) equal the file's total row"
                if wrong.is_empty()
                else f"{wrong.height} measure(s) differ from the file's total row: "
                + "; ".join(f"{r['period_month']} {r['measure']}" for r in wrong.iter_rows(named=True))
            ),
            metadata={
                "compared": dg.MetadataValue.json(
                    compared.with_columns(pl.col("period_month").cast(pl.String)).to_dicts()
                )
            },
        )

    return _check
