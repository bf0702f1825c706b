"""Ingest the monthly performance datasets: one partition per data month, one row per file fetched."""

from collections.abc import Sequence

from assets.ingest.raw_files import Resolver, raw_files_asset
from pipeline.errors import SourceUnavailableError
from pipeline.partitions import AE_MONTHS, CANCER_MONTHS, RTT_MONTHS, SICKNESS_MONTHS
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile


def month_files(dataset: str, required: Sequence[str], optional: Sequence[str] = ()) -> Resolver:
    """Fetch the month's file for each product; a missing required file means the month is unavailable.

    With several required products, any one of them is enough (cancer: combined or provider workbook).
    """

    def resolve(source: SourceResource, partition: str | None) -> list[SourceFile]:
        assert partition is not None, "performance datasets are partitioned by month"
        files, reasons = [], []
        for product in (*required, *optional):
            try:
                files.append(source.fetch(dataset, product, partition))
            except SourceUnavailableError as error:
                reasons.append(str(error))
        if not any(f.product in required for f in files):
            raise SourceUnavailableError(f"{dataset} {partition[:7]}: " + "; ".join(reasons))
        return files

    return resolve


raw_ae = raw_files_asset(
    "ae",
    month_files("ae", ["monthly_csv"], ["provider_workbook"]),
    partitions_def=AE_MONTHS,
    description="The month's A&E attendances and emergency admissions CSV (MSitAE), and the provider workbook "
    "when there is one. A `-revised` file replaces the earlier load of its month.",
)
raw_rtt = raw_files_asset(
    "rtt",
    month_files("rtt", ["full_extract_zip"]),
    partitions_def=RTT_MONTHS,
    description="The month's referral to treatment full CSV extract (a zip holding one large CSV).",
)
raw_cancer = raw_files_asset(
    "cancer",
    month_files("cancer", ["combined_workbook", "provider_workbook"]),
    partitions_def=CANCER_MONTHS,
    description="The month's cancer waiting times workbooks: the monthly combined workbook and/or the provider "
    "workbook.",
)
raw_sickness = raw_files_asset(
    "sickness",
    month_files("sickness", ["monthly_csv"]),
    partitions_def=SICKNESS_MONTHS,
    description="The month's NHS sickness absence rates CSV (organisation level, all staff groups).",
)

__all__ = ["raw_ae", "raw_cancer", "raw_rtt", "raw_sickness"]
