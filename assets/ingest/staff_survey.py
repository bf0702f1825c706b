"""Ingest the NHS Staff Survey files of one survey year: the organisational workbook, the trust-level extract
(snapshot) and, in web mode, the benchmark report Excel data of the same release year."""

from assets.ingest.raw_files import raw_files_asset
from pipeline.errors import SourceUnavailableError
from pipeline.partitions import SURVEY_YEARS
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile

DATASET = "staff_survey"
# the benchmark release named for year Y (e.g. "2024" for 2020-2024) holds Y as first published
PRODUCTS = ("organisational_workbook", "trust_extract", "benchmark_workbook", "benchmark_via_extract")
# the trust context extract's copy of the benchmark scores stands in only for a year no official file provides
STAND_IN = "benchmark_via_extract"


def survey_year_files(source: SourceResource, partition: str | None) -> list[SourceFile]:
    """Every product the source lists for the year; a listed file that turns out to be gone (old benchmark
    releases' hashed URLs now 404) is skipped as long as another product provides the year."""
    year = str(partition)
    files, missing = [], []
    for product in PRODUCTS:
        if product == STAND_IN and files:
            continue
        if year not in source.available(DATASET, product):
            continue
        try:
            files.append(source.fetch(DATASET, product, year))
        except SourceUnavailableError as gone:
            missing.append(str(gone))
    if not files:
        reasons = "; ".join(missing) or "no product lists it"
        raise SourceUnavailableError(f"no NHS Staff Survey file is available for survey year {year}: {reasons}")
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
