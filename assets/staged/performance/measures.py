"""The long shape every performance parser returns, and the checks on the counts it is built from.

A parser turns one source file into provider rows of counts, then into one row per provider and measure
(numerator, denominator, value). Percentages are 0–100 and always recomputed from the counts.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.staged.files import as_number
from pipeline.errors import InputDataError
from pipeline.reference import read_reference

MEASURE_SCHEMA: dict[str, pl.DataType] = {
    "reported_org_code": pl.String(),
    "reported_org_name": pl.String(),
    "measure": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "value": pl.Float64(),
    "source_file": pl.String(),
    "source_sheet": pl.String(),
    "source_row": pl.Int64(),
}
TOTAL_SCHEMA: dict[str, pl.DataType] = {
    k: v for k, v in MEASURE_SCHEMA.items() if k not in {"reported_org_code", "reported_org_name"}
}


@dataclass(frozen=True)
class ParsedMonth:
    """One month of one dataset: provider measures, and the file's own England total row(s) when it has one."""

    measures: pl.DataFrame
    file_totals: pl.DataFrame


def measure_units() -> dict[str, str]:
    return dict(read_reference("performance_measures").select("measure", "unit").iter_rows())


def counts(
    frame: pl.DataFrame,
    columns: dict[str, str],
    *,
    file: str | Path,
    sheet: str | None = None,
    step: float | None = 1.0,
) -> pl.DataFrame:
    """Cast text count cells to floats. `columns` maps frame column → the file's own column name.

    Counts written with thousands separators (`1,234`) are read as numbers. Raises InputDataError naming the file,
    sheet, row (`source_row`) and column for an empty, non-numeric, negative count, or one that is not a multiple
    of `step` (1 for people; 0.5 where a pathway shared by two providers counts half to each; None for FTE days).
    """

    numbers = frame.select([as_number(pl.col(c).str.strip_chars()) for c in columns])

    def suspect(column: str) -> pl.Expr:
        number = pl.col(column)
        multiple = pl.lit(True) if step is None else (number / step).round(0) == number / step
        return number.is_null() | (number < 0) | ~multiple

    # one cheap pass over every cell (separate column expressions: one combined expression is far slower);
    # the search for the first bad cell and its reason runs only when there is one
    flags = numbers.select([suspect(c).any() for c in columns]).row(0)
    for (column, label), flagged in zip(columns.items(), flags, strict=True):
        if not flagged:
            continue
        cells = frame.select(pl.col(column).alias("text"), "source_row").with_columns(numbers[column].alias("number"))
        first = cells.filter(pl.Series(numbers.select(suspect(column)).to_series())).row(0, named=True)
        text, number = first["text"], first["number"]
        if text is None or not text.strip():
            problem = "is empty; a count is expected"
        elif number is None:
            problem = "is not a number"
        elif number < 0:
            problem = "is negative; counts cannot be"
        else:
            problem = f"is not a multiple of {step:g}"
        raise InputDataError(f"{text!r} {problem}", file=file, sheet=sheet, row=first["source_row"], column=label)
    return frame.with_columns(numbers)


def require_within(
    frame: pl.DataFrame,
    part: str,
    whole: str,
    *,
    file: str | Path,
    column: str,
    sheet: str | None = None,
    what: str = "",
) -> None:
    """A numerator (`part`) can never exceed its denominator (`whole`): name the first row where it does."""
    bad = frame.filter(pl.col(part) > pl.col(whole) + 1e-9)
    if bad.height:
        first = bad.row(0, named=True)
        raise InputDataError(
            f"{what or part} ({first[part]:g}) exceeds its denominator ({first[whole]:g})",
            file=file,
            sheet=sheet,
            row=first["source_row"],
            column=column,
        )


def percent_rows(frame: pl.DataFrame, measure: str, numerator: pl.Expr, denominator: pl.Expr) -> pl.DataFrame:
    """One row per provider: numerator, denominator and 100 × numerator ÷ denominator (null when it is 0)."""
    return frame.select(
        "reported_org_code",
        "reported_org_name",
        pl.lit(measure).alias("measure"),
        numerator.cast(pl.Float64).alias("numerator"),
        denominator.cast(pl.Float64).alias("denominator"),
        "source_row",
    ).with_columns(
        value=pl.when(pl.col("denominator") > 0).then(100 * pl.col("numerator") / pl.col("denominator")),
    )


def count_rows(frame: pl.DataFrame, measure: str, count: pl.Expr) -> pl.DataFrame:
    """One row per provider for a count measure: the count is both numerator and value; no denominator."""
    return frame.select(
        "reported_org_code",
        "reported_org_name",
        pl.lit(measure).alias("measure"),
        count.cast(pl.Float64).alias("numerator"),
        pl.lit(None, dtype=pl.Float64).alias("denominator"),
        "source_row",
    ).with_columns(value=pl.col("numerator"))


def finish(rows: list[pl.DataFrame], *, source_file: str, sheet: str | None = None) -> pl.DataFrame:
    """Stack measure rows into MEASURE_SCHEMA, labelled with the file (and sheet) they came from."""
    stacked = pl.concat(rows, how="diagonal_relaxed").with_columns(
        source_file=pl.lit(source_file), source_sheet=pl.lit(sheet, dtype=pl.String)
    )
    return stacked.select([pl.col(c).cast(t) for c, t in MEASURE_SCHEMA.items()])


def as_totals(measures: pl.DataFrame) -> pl.DataFrame:
    return measures.select([pl.col(c).cast(t) for c, t in TOTAL_SCHEMA.items()])


def no_totals() -> pl.DataFrame:
    return pl.DataFrame(schema=TOTAL_SCHEMA)


def england_from_providers(measures: pl.DataFrame, units: dict[str, str] | None = None) -> pl.DataFrame:
    """England per measure from provider rows: numerators and denominators summed, percentages recomputed."""
    units = units or measure_units()
    summed = measures.group_by("measure").agg(
        pl.col("numerator").sum(),
        pl.when(pl.col("denominator").is_not_null().any()).then(pl.col("denominator").sum()).alias("denominator"),
        pl.len().alias("providers"),
    )
    is_percent = pl.col("measure").replace_strict(units, default="count") == "percent"
    return summed.with_columns(
        value=pl.when(is_percent)
        .then(pl.when(pl.col("denominator") > 0).then(100 * pl.col("numerator") / pl.col("denominator")))
        .otherwise(pl.col("numerator"))
    ).sort("measure")
