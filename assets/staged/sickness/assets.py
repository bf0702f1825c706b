"""Staged sickness absence table `sickness_monthly`: FTE days lost ÷ available per organisation."""

from datetime import date

from assets.ingest.performance import raw_sickness
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.staging import staged_performance_asset
from assets.staged.sickness.parse import parse_sickness_csv
from pipeline.checks import gx_check
from pipeline.partitions import SICKNESS_MONTHS
from pipeline.sources import SourceFile


def parse_month(files: list[SourceFile], month: date) -> ParsedMonth:
    (csv_file,) = [f for f in files if f.product == "monthly_csv"]
    return parse_sickness_csv(csv_file.path, month, csv_file.official_name)


sickness_monthly = staged_performance_asset(
    dataset="sickness", raw_asset=raw_sickness, partitions_def=SICKNESS_MONTHS, parse=parse_month
)
# the CSV has no England row (the official England rate is in a separate benchmarking workbook)
sickness_monthly_expectations = gx_check(sickness_monthly, partition_column="period_month", partition_sql_type="DATE")
