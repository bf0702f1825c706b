"""Staged ODS trusts table."""

import dagster as dg
import polars as pl

from assets.ingest.ods import raw_ods
from assets.ingest.raw_files import record_files_used, recorded_files
from assets.staged.ods.etr import parse_etr
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, transaction

DOC = dictionary.table("ods_trusts")


@dg.asset(
    group_name="staged",
    deps=[raw_ods],
    description=DOC.description,
    metadata=DOC.dagster_metadata(),
    kinds={"polars", "duckdb"},
)
def ods_trusts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        (etr,) = recorded_files(con, "ods", None)
    frame = parse_etr(etr.path, read_reference("nhs_regions")).with_columns(
        ods_vintage=pl.lit(etr.period), source_file=pl.lit(etr.official_name)
    )
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "ods_trusts", frame)
            record_files_used(con, "ods", None, [etr])
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "ods_trusts"),
                "open_trusts": frame.filter(pl.col("close_date").is_null()).height,
                "closed_trusts": frame.filter(pl.col("close_date").is_not_null()).height,
                "ods_vintage": etr.period,
            }
        )


ods_trusts_expectations = gx_check(ods_trusts)
