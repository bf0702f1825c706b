"""Staged A&E table `ae_monthly`: 4-hour performance (all types, type 1) and 12-hour waits per provider."""

from datetime import date

from assets.ingest.performance import raw_ae
from assets.staged.ae.parse import parse_ae_csv
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.staging import england_total_check, staged_performance_asset
from pipeline.checks import gx_check
from pipeline.partitions import AE_MONTHS
from pipeline.sources import SourceFile


def parse_month(files: list[SourceFile], month: date) -> ParsedMonth:
    (csv_file,) = [f for f in files if f.product == "monthly_csv"]
    return parse_ae_csv(csv_file.path, month, csv_file.official_name)


ae_monthly = staged_performance_asset(dataset="ae", raw_asset=raw_ae, partitions_def=AE_MONTHS, parse=parse_month)
ae_monthly_expectations = gx_check(ae_monthly, partition_column="period_month", partition_sql_type="DATE")
ae_monthly_england_total = england_total_check(ae_monthly, "ae")
