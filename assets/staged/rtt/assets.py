"""Staged RTT table `rtt_monthly`: incomplete pathways, % within 18 weeks and 52+ week waiters per provider."""

from datetime import date

from assets.ingest.performance import raw_rtt
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.staging import staged_performance_asset
from assets.staged.rtt.parse import parse_rtt_zip
from pipeline.checks import gx_check
from pipeline.partitions import RTT_MONTHS
from pipeline.sources import SourceFile


def parse_month(files: list[SourceFile], month: date) -> ParsedMonth:
    (extract,) = [f for f in files if f.product == "full_extract_zip"]
    return parse_rtt_zip(extract.path, month, extract.official_name)


rtt_monthly = staged_performance_asset(dataset="rtt", raw_asset=raw_rtt, partitions_def=RTT_MONTHS, parse=parse_month)
# the extract has no England row: the England figure is in the asset metadata, checked in tests against NHS England's
rtt_monthly_expectations = gx_check(rtt_monthly, partition_column="period_month", partition_sql_type="DATE")
