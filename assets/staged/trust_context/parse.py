"""Parse the trust context extract (one wide row per trust) into the long `trust_context` table.

Only columns listed in data/reference/trust_context_measures.csv are read, and none of them may match the
deny-list data/reference/trust_context_denied.csv (columns PROVENANCE.md shows to be defective): a listed
column that is denied, or missing from the file, is an error naming it, never a silent drop or a silent read.
"""

from pathlib import Path

import polars as pl

from pipeline import dictionary
from pipeline.errors import InputDataError

KEY_COLUMN = "org_code"
VIA = "trust_profiles.csv, larsen-analyst/trustpulse (a processed third-party extract)"
ORG_CODE_PATTERN = r"^[A-Z0-9]{3,6}$"
# the trust_context table's columns, in order, from its data dictionary entry
COLUMNS = list(dictionary.table("trust_context").polars_schema())


def denied_columns(columns: list[str], denied: pl.DataFrame) -> list[str]:
    """The columns that match a deny-list prefix (an exact name is a prefix of itself)."""
    prefixes = denied["column_prefix"].to_list()
    return [c for c in columns if any(c.startswith(p) for p in prefixes)]


def check_catalogue(measures: pl.DataFrame, datasets: pl.DataFrame, denied: pl.DataFrame) -> None:
    """The measure catalogue reads no denied column and names only catalogued datasets."""
    refused = denied_columns(measures["source_column"].to_list(), denied)
    if refused:
        raise InputDataError(
            f"the catalogue asks for column(s) {refused} that the deny-list refuses (defective in the extract)",
            file="trust_context_measures.csv",
            column="source_column",
        )
    unknown = set(measures["dataset"]) - set(datasets["dataset"])
    if unknown:
        raise InputDataError(
            f"dataset(s) {sorted(unknown)} are not in trust_context_datasets.csv",
            file="trust_context_measures.csv",
            column="dataset",
        )


def parse_trust_context(
    path: Path,
    measures: pl.DataFrame,
    datasets: pl.DataFrame,
    denied: pl.DataFrame,
    derived: pl.DataFrame,
    source_file: str,
) -> pl.DataFrame:
    """One row per trust and catalogued measure with a value, each with its dataset's provenance.

    `source_row` is the file's line number (the header is line 1); `source_column` the extract's column."""
    check_catalogue(measures, datasets, denied)
    header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
    if KEY_COLUMN not in header:
        raise InputDataError(f"has no {KEY_COLUMN!r} column: not the trust profiles extract", file=path)
    wanted = measures["source_column"].to_list()
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputDataError(f"lacks catalogued column(s) {missing}", file=path, column=missing[0])
    wide = pl.read_csv(path, columns=[KEY_COLUMN, *wanted], infer_schema=False).with_row_index("source_row", offset=2)
    bad_code = wide.filter(~pl.col(KEY_COLUMN).str.contains(ORG_CODE_PATTERN))
    if bad_code.height:
        first = bad_code.row(0, named=True)
        raise InputDataError(
            f"{first[KEY_COLUMN]!r} is not an ODS code", file=path, row=first["source_row"], column=KEY_COLUMN
        )
    duplicated = wide.filter(pl.col(KEY_COLUMN).is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise InputDataError(
            f"{first[KEY_COLUMN]} appears more than once", file=path, row=first["source_row"], column=KEY_COLUMN
        )
    long = (
        wide.unpivot(index=[KEY_COLUMN, "source_row"], variable_name="source_column", value_name="text")
        .with_columns(pl.col("text").str.strip_chars())
        .filter(pl.col("text").is_not_null() & (pl.col("text") != ""))
        .with_columns(value=pl.col("text").cast(pl.Float64, strict=False))
    )
    not_numeric = long.filter(pl.col("value").is_null() | ~pl.col("value").is_finite())
    if not_numeric.height:
        first = not_numeric.row(0, named=True)
        raise InputDataError(
            f"{first['text']!r} is not a number", file=path, row=first["source_row"], column=first["source_column"]
        )
    provenance = datasets.select("dataset", "publisher", "official_file", "period")
    read = (
        long.join(measures.select("source_column", "dataset", "measure", "unit"), on="source_column")
        .join(provenance, on="dataset")
        .with_columns(
            via=pl.lit(VIA),
            source_file=pl.lit(source_file),
            source_row=pl.col("source_row").cast(pl.Int64),
        )
        .select(COLUMNS)
    )
    return (
        pl.concat([read, derive(read, derived, datasets, source_file)])
        .select(COLUMNS)
        .sort("org_code", "dataset", "measure")
    )


def derive(read: pl.DataFrame, derived: pl.DataFrame, datasets: pl.DataFrame, source_file: str) -> pl.DataFrame:
    """Ratios of two read measures of the same trust (data/reference/trust_context_derived.csv), null
    denominators and zero denominators giving no row; provenance names both inputs."""
    base = datasets.filter(pl.col("dataset") == "derived").row(0, named=True)
    frames = []
    for spec in derived.iter_rows(named=True):
        top = read.filter(pl.col("measure") == spec["numerator"]).select(
            "org_code", "source_row", top="value", top_column="source_column", top_period="period"
        )
        bottom = read.filter(pl.col("measure") == spec["denominator"]).select(
            "org_code", bottom="value", bottom_column="source_column", bottom_period="period"
        )
        frames.append(
            top.join(bottom, on="org_code")
            .filter(pl.col("bottom") > 0)
            .select(
                "org_code",
                dataset=pl.lit("derived"),
                measure=pl.lit(spec["measure"]),
                period=pl.concat_str("top_period", pl.lit(" ÷ "), "bottom_period"),
                value=pl.col("top") * float(spec["scale"]) / pl.col("bottom"),
                unit=pl.lit(spec["unit"]),
                publisher=pl.lit(base["publisher"]),
                official_file=pl.lit(base["official_file"]),
                via=pl.lit(VIA),
                source_file=pl.lit(source_file),
                source_column=pl.concat_str("top_column", pl.lit(" ÷ "), "bottom_column"),
                source_row="source_row",
            )
        )
    return pl.concat(frames) if frames else read.clear()
