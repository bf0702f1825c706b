"""An analyst's own series from a CSV file, charted for `nhs-readiness spc`."""

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from assets.publish.spc.xmr import XmrRules, default_rules, spc_series
from pipeline.errors import InputDataError

DATE_FORMATS = {"%Y-%m-%d": "YYYY-MM-DD", "%d/%m/%Y": "DD/MM/YYYY"}
OUTPUT_COLUMNS = ("date", "value", "mean", "lpl", "upl", "point_type")
# enough to show every meaningful digit of the input while hiding floating-point noise such as 4.067500000000001
PRINTED_SIGNIFICANT_DIGITS = 12
FIRST_DATA_ROW = 2  # row 1 is the header, as a spreadsheet numbers it


def read_series_csv(path: Path, date_column: str, value_column: str) -> pl.DataFrame:
    """Columns `date` and `value` (null for an empty cell) in file order.

    Raises InputDataError naming the row and column for a missing column, an empty or unparseable date
    (all dates must share the format of the first: YYYY-MM-DD or DD/MM/YYYY), a repeated date or a value that
    is not a finite number.
    """
    if not path.is_file():
        raise InputDataError("no such file", file=path)
    try:
        table = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as error:
        raise InputDataError(f"cannot be read as CSV ({error})", file=path) from None
    for column in (date_column, value_column):
        if column not in table.columns:
            raise InputDataError(
                f"no such column; the columns are {', '.join(table.columns)}", file=path, column=column
            )
    if not table.height:
        raise InputDataError("has no data rows", file=path)
    texts = table.select(
        row=pl.int_range(FIRST_DATA_ROW, table.height + FIRST_DATA_ROW),
        date_text=pl.col(date_column).str.strip_chars().fill_null(""),
        value_text=pl.col(value_column).str.strip_chars().fill_null(""),
    )
    first_date = texts["date_text"][0]
    date_format = next(
        (f for f in DATE_FORMATS if pl.Series([first_date]).str.to_date(f, strict=False).null_count() == 0),
        "%Y-%m-%d",
    )
    parsed = texts.with_columns(
        date=pl.col("date_text").str.to_date(date_format, strict=False),
        value=pl.col("value_text").cast(pl.Float64, strict=False),
    )

    def fail(bad: pl.DataFrame, problem: str, column: str) -> None:
        if bad.height:
            first = bad.row(0, named=True)
            raise InputDataError(problem.format(**first), file=path, row=first["row"], column=column)

    fail(
        parsed.filter(pl.col("date").is_null()),
        f"{{date_text!r}} is not a date in the format of the first row ({DATE_FORMATS[date_format]})",
        date_column,
    )
    fail(parsed.filter(~pl.col("date").is_first_distinct()), "the date {date} appears more than once", date_column)
    fail(
        parsed.filter((pl.col("value_text") != "") & (pl.col("value").is_null() | ~pl.col("value").is_finite())),
        "{value_text!r} is not a number (leave the cell empty for a missing value)",
        value_column,
    )
    return parsed.select("date", "value")


def spc_for_csv(
    path: Path,
    date_column: str,
    value_column: str,
    improvement_direction: str = "increase",
    *,
    screen_outliers: bool = True,
    fix_after_n: int | None = None,
    rebase_dates: Sequence[date] = (),
    rules: XmrRules | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """The chart (columns OUTPUT_COLUMNS, in date order, limits to 12 significant digits) and warnings about limits
    set from few points.

    Raises ValueError (InputDataError for the file) when a segment has fewer than 2 values, since process limits
    need at least one moving range.
    """
    rules = rules or default_rules()
    series = read_series_csv(path, date_column, value_column)
    chart = spc_series(
        series["date"],
        series["value"],
        improvement_direction,
        screen_outliers=screen_outliers,
        fix_after_n=fix_after_n,
        rebase_dates=rebase_dates,
        rules=rules,
    )
    segments = chart.group_by("segment").agg(start=pl.col("date").min(), points=pl.col("value").count()).sort("start")
    warnings = []
    for start, points in segments.select("start", "points").iter_rows():
        if points < 2:
            raise ValueError(
                f"too few points: the limits from {start} would rest on {points} value(s); at least 2 are needed"
            )
        if points < rules.short_segment_points:
            warnings.append(
                f"the limits from {start} rest on only {points} values (fewer than {rules.short_segment_points}): "
                "treat them as provisional"
            )
    limits = pl.col("mean", "lpl", "upl").round_sig_figs(PRINTED_SIGNIFICANT_DIGITS)
    return chart.select(OUTPUT_COLUMNS).with_columns(limits), warnings
