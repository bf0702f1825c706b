"""Ingest the NHS Staff Survey files of one survey year: the organisational workbook, the trust-level extract
(snapshot) and, in web mode, the benchmark report Excel data of the same release year."""

from assets.ingest.raw_files import raw_files_asset
from pipeline.errors import SourceUnavailableError
from pipeline.partitions import SURVEY_YEARS
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile

DATASET = "staff_survey"
# the benchmark release named for year Y (e.g. "2024" for 2020-2024) holds Y as first published
PRODUCTS = ("organisational_workbook", "trust_extract", "benchmark_workbook")


def survey_year_files(source: SourceResource, partition: str | None) -> list[SourceFile]:
    year = str(partition)
    files = [source.fetch(DATASET, product, year) for product in PRODUCTS if year in source.available(DATASET, product)]
    if not files:
        raise SourceUnavailableError(f"no NHS Staff Survey file is available for survey year {year}")
    return files


raw_staff_survey = raw_files_asset(
    DATASET,
    survey_year_files,
    partitions_def=SURVEY_YEARS,
    description=(
        "NHS Staff Survey source files of one survey year: the official organisational workbook (every question "
        "and score), the NSS21-NSS24 trust-level extract, and in web mode the benchmark report Excel data."
    ),
)
