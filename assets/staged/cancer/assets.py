"""Staged cancer waiting times table `cancer_monthly`: FDS, 31-day and 62-day performance per provider."""

from datetime import date

from assets.ingest.performance import raw_cancer
from assets.staged.cancer.parse import parse_cancer_workbook
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.staging import england_total_check, staged_performance_asset
from pipeline.checks import gx_check
from pipeline.partitions import CANCER_MONTHS
from pipeline.sources import SourceFile

# the combined workbook is the newer, fuller product; the provider workbook stands in for months without one
PREFERENCE = ("combined_workbook", "provider_workbook")


def parse_month(files: list[SourceFile], month: date) -> ParsedMonth:
    chosen = min(files, key=lambda f: PREFERENCE.index(f.product))
    return parse_cancer_workbook(chosen.path, chosen.product, month, chosen.official_name)


cancer_monthly = staged_performance_asset(
    dataset="cancer", raw_asset=raw_cancer, partitions_def=CANCER_MONTHS, parse=parse_month
)
cancer_monthly_expectations = gx_check(cancer_monthly, partition_column="period_month", partition_sql_type="DATE")
cancer_monthly_england_total = england_total_check(cancer_monthly, "cancer")
