"""Parser for the trust-level extract `data_trusts_well-being - organisational results.csv` (NSS21–NSS24).

One row per organisation and year; every column is described in data/reference/staff_survey_extract_columns.csv
(data-sources.md §3.11). Rates are sums of published option percentages, so each is recorded as the sum of
its options and the item statistics that those sums determine exactly are recovered later.
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from assets.staged.files import as_number, is_suppressed, read_csv_text, repeated_header
from pipeline.errors import InputDataError
from pipeline.reference import read_reference

MISSING_MARKERS = ("NA", "<NA>", "-", "")
ID_COLUMNS = {
    "ODS code": "org_code",
    "Organisation name": "org_name",
    "Benchmarking group": "benchmarking_group",
    "Region": "region",
    "Weighting": "weighting",
}
# In the 2021 rows the extract holds the ICS/STP name under Region and the region under ICS/STP (§3.11)
REGION_ICS_SWAPPED_YEARS = (2021,)


@dataclass(frozen=True)
class ExtractTables:
    organisations: pl.DataFrame  # org_code, org_name, benchmarking_group, region, ics, weighting, source_row
    option_sums: pl.DataFrame  # org_code, source_question_id, options (list), pct, extract_column
    bases: pl.DataFrame  # org_code, source_question_id, base


@cache
def extract_columns() -> pl.DataFrame:
    return read_reference("staff_survey_extract_columns")


def _null_markers(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars()
    return pl.when(value.is_in(MISSING_MARKERS)).then(None).otherwise(value).alias(column)


def parse_trust_extract(path: Path, survey_year: int) -> ExtractTables:
    """The extract's rows for one survey year; raises InputDataError for a file that does not match the layout."""
    text = read_csv_text(path)
    try:
        frame = pl.read_csv(text.encode(), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise InputDataError(f"not a readable CSV: {str(error).splitlines()[0]}", file=path) from None
    documented = extract_columns()["extract_column"].to_list()
    header = next(csv.reader([text.partition("\n")[0]]))
    repeated = repeated_header(header, documented)
    if repeated:
        raise InputDataError("the header repeats this column", file=path, row=1, column=repeated)
    extra = [c for c in frame.columns if c not in documented]
    if extra:
        raise InputDataError(
            "column not in the extract layout (data/reference/staff_survey_extract_columns.csv)",
            file=path,
            row=1,
            column=extra[0],
        )
    missing = [c for c in documented if c not in frame.columns]
    if missing:
        raise InputDataError("column missing from the extract", file=path, row=1, column=missing[0])

    frame = frame.with_row_index("source_row", offset=2).with_columns(pl.col("Year").str.strip_chars())
    bad_year = frame.filter(~pl.col("Year").str.contains(r"^\d{4}$"))
    if bad_year.height:
        raise InputDataError(
            f"{bad_year['Year'][0]!r} is not a year", file=path, row=bad_year["source_row"][0], column="Year"
        )
    years = sorted(set(frame["Year"].to_list()))
    frame = frame.filter(pl.col("Year").cast(pl.Int32) == survey_year)
    if frame.is_empty():
        raise InputDataError(
            f"has no rows for survey year {survey_year} (years in the file: {', '.join(years) or 'none'})",
            file=path,
            column="Year",
        )

    organisations = _organisations(frame, survey_year)
    duplicated = organisations.filter(pl.col("org_code").is_duplicated())
    if duplicated.height:
        raise InputDataError(
            f"organisation {duplicated['org_code'][0]} appears twice for {survey_year}",
            file=path,
            row=duplicated["source_row"][0],
            column="ODS code",
        )
    values = _values(frame, path)
    columns = extract_columns()
    sums = (
        values.join(columns.filter(pl.col("role") == "option_sum"), on="extract_column")
        .select(
            "org_code",
            "source_question_id",
            pl.col("options").str.split("|"),
            pct="value",
            extract_column="extract_column",
        )
        .sort("org_code", "source_question_id", "extract_column")
    )
    bases = (
        values.join(columns.filter(pl.col("role") == "base"), on="extract_column")
        .select("org_code", "source_question_id", base=pl.col("value").round(0).cast(pl.Int64))
        .sort("org_code", "source_question_id")
    )
    return ExtractTables(organisations, sums, bases)


def _organisations(frame: pl.DataFrame, survey_year: int) -> pl.DataFrame:
    cleaned = frame.with_columns(*[_null_markers(c) for c in (*ID_COLUMNS, "ICS/STP", "ICS")])
    region, ics = pl.col("Region"), pl.coalesce("ICS/STP", "ICS")
    if survey_year in REGION_ICS_SWAPPED_YEARS:
        region, ics = pl.col("ICS/STP"), pl.col("Region")
    return cleaned.select(
        *[pl.col(source).alias(target) for source, target in ID_COLUMNS.items() if target != "region"],
        region.alias("region"),
        ics.alias("ics"),
        "source_row",
    ).select("org_code", "org_name", "benchmarking_group", "region", "ics", "weighting", "source_row")


def _values(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    numeric = extract_columns().filter(pl.col("role").is_in(["option_sum", "base"]))["extract_column"].to_list()
    long = frame.select("source_row", pl.col("ODS code").str.strip_chars().alias("org_code"), *numeric).unpivot(
        index=["source_row", "org_code"], variable_name="extract_column", value_name="text"
    )
    text = pl.col("text").str.strip_chars()
    missing = text.is_in(MISSING_MARKERS) | is_suppressed(text)
    long = long.with_columns(value=pl.when(missing).then(None).otherwise(as_number(text)))
    bad = long.filter(pl.col("value").is_null() & text.is_not_null() & ~missing)
    if bad.height:
        first = bad.row(0, named=True)
        raise InputDataError(
            f"{first['text']!r} is not a number", file=path, row=first["source_row"], column=first["extract_column"]
        )
    out_of_range = long.filter(pl.col("value") < 0)
    if out_of_range.height:
        first = out_of_range.row(0, named=True)
        raise InputDataError(
            f"{first['value']} is negative", file=path, row=first["source_row"], column=first["extract_column"]
        )
    _refuse_fractions(long, path)
    return long.drop("text")


def _refuse_fractions(long: pl.DataFrame, path: Path) -> None:
    """Rates are percentages (0-100). In a real row some rate is always above 1 (100 - %Never of the burnout items
    is most staff), so a row whose every rate is at most 1 holds fractions of 1, which would be stored 100 times
    too small."""
    rates = long.join(
        extract_columns().filter(pl.col("role") == "option_sum").select("extract_column"), on="extract_column"
    )
    per_row = rates.group_by("source_row").agg(
        pl.col("value").max().alias("largest"), pl.col("value").count().alias("rates"), pl.col("extract_column").first()
    )
    fractions = per_row.filter((pl.col("rates") > 0) & (pl.col("largest") <= 1)).sort("source_row")
    if fractions.height:
        first = fractions.row(0, named=True)
        raise InputDataError(
            f"every rate in this row is at most 1 (largest {first['largest']:.4g}): percentages written as fractions "
            "of 1?",
            file=path,
            row=first["source_row"],
            column=first["extract_column"],
        )
