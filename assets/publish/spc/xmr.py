"""XmR (individuals) statistical process control the NHS way: Making Data Count, as NHSRplotthedots v0.2 does it.

Per series, or per segment of a series when it is rebased:

* mean = mean of the points; mean moving range (mR) = mean of |x[i] - x[i-1]|; with screening on, moving ranges of
  3.267 × that mean or more are left out and the mean moving range is recomputed once;
  process limits = mean ± 2.66 × mR. With `fix_after_n` only the first n points set the mean and limits.
* Special causes, in this order of precedence (the first that applies names the point's rule):
  1. `outside_limits`: above the upper or below the lower process limit;
  2. `trend`: part of 7 points each higher (or each lower) than the one before;
  3. `two_in_three`: near a limit (beyond two thirds of the way from the mean to it, not beyond it) in a run of
     3 consecutive points on the same side of the mean of which at least 2 are near that limit; only the near
     points are flagged;
  4. `shift`: part of 7 points in a row on the same side of the mean (every point of the run is flagged).
* The direction of a special cause is the side of the mean for rules 1, 3 and 4 and the direction of the trend for
  rule 2; with the measure's improvement direction it gives `point_type`.

The constants live in data/reference/spc_rules.csv. Deliberate differences from NHSRplotthedots v0.2:

* Null (and NaN) values are left out as if the month were absent, so they do not count towards fix_after_n either
  (NHSRplotthedots has no defined handling: NA spreads through its rules); their rows come back with the segment's
  mean and limits and a null point_type. Missing months are handled as NHSRplotthedots does: points are taken in
  date order and the calendar is ignored, so a moving range spans a gap.
* A flat segment (every moving range 0) gets lpl = upl = mean; with screening on NHSRplotthedots screens out every
  zero moving range and returns NaN limits.
* A trend point takes the direction of the latest trend it belongs to (a peak shared by a rise and a fall takes the
  fall's, as in NHSRplotthedots). NHSRplotthedots takes the step to the next point whenever that point is in any
  trend, so the last point of a trend followed at once by another trend gets the direction of the step between them:
  "increasing" at the foot of a fall followed by a jump up into a second fall, "decreasing" before an equal value.
* A rebase date starts a new segment at the first point on or after it (NHSRplotthedots needs an exact date match).
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from fractions import Fraction
from functools import cache

import polars as pl

from pipeline import dictionary
from pipeline.reference import read_reference

IMPROVEMENT_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
SPECIAL_CAUSE_RULES = ("outside_limits", "trend", "two_in_three", "shift")  # in order of precedence
SERIES_COLUMNS = ("date", "value", "mean", "lpl", "upl", "point_type", "special_cause_rule", "segment")
SPC_MONTHLY_COLUMNS = tuple(dictionary.table("spc_monthly").columns)  # in published order


@dataclass(frozen=True)
class XmrRules:
    """The Making Data Count constants, read from data/reference/spc_rules.csv."""

    process_limit_multiplier: float
    near_limit_fraction: float
    outlier_screen_multiplier: float
    trend_points: int
    shift_points: int
    near_limit_window: int
    near_limit_points: int
    min_fix_after_points: int
    short_segment_points: int


@cache
def default_rules() -> XmrRules:
    table = read_reference("spc_rules")
    given = dict(zip(table["parameter"], table["value"], strict=True))
    expected = {f.name: f.type for f in fields(XmrRules)}
    if given.keys() != expected.keys():
        raise ValueError(
            f"data/reference/spc_rules.csv: parameters {sorted(given)} differ from the expected {sorted(expected)}"
        )
    values = {name: Fraction(text) for name, text in given.items()}
    not_whole = [name for name, kind in expected.items() if kind is int and values[name].denominator != 1]
    if not_whole:
        raise ValueError(f"data/reference/spc_rules.csv: {not_whole} must be whole numbers")
    return XmrRules(**{name: kind(values[name]) for name, kind in expected.items()})


def spc_series(
    dates: Sequence[date] | pl.Series,
    values: Sequence[float | None] | pl.Series,
    improvement_direction: str = "increase",
    *,
    screen_outliers: bool = True,
    fix_after_n: int | None = None,
    rebase_dates: Sequence[date] = (),
    rules: XmrRules | None = None,
) -> pl.DataFrame:
    """XmR chart of one series: one row per input point, in date order, with the columns in SERIES_COLUMNS.

    `segment` counts the rebase dates on or before the point (0 before the first). Raises ValueError for
    mismatched lengths, null or repeated dates, an unknown improvement direction, fix_after_n below the minimum,
    or a rebase date not after the first date or after the last one.
    """
    rules = rules or default_rules()
    if len(dates) != len(values):
        raise ValueError(f"{len(dates)} dates but {len(values)} values")
    dates = dates if isinstance(dates, pl.Series) else pl.Series(dates, dtype=pl.Date)
    frame = pl.DataFrame({"date": dates, "value": _as_float_series(values)})
    if frame["date"].dtype != pl.Date:
        raise ValueError(f"dates must be calendar dates, not {frame['date'].dtype}")
    if frame["date"].null_count():
        raise ValueError("every point needs a date")
    if frame["date"].is_duplicated().any():
        raise ValueError(f"dates repeat: {sorted(set(frame.filter(pl.col('date').is_duplicated())['date']))}")
    frame = frame.sort("date")
    for rebase in sorted(set(rebase_dates)):
        if not frame["date"].first() < rebase <= frame["date"].last():
            raise ValueError(
                f"rebase date {rebase} must be after the first date ({frame['date'].first()}) "
                f"and no later than the last ({frame['date'].last()})"
            )
    frame = frame.with_columns(
        segment=pl.sum_horizontal(pl.lit(0), *[pl.col("date") >= d for d in set(rebase_dates)]).cast(pl.Int32),
        improvement=pl.lit(_improvement_sign(improvement_direction), pl.Int8),
    )
    charted = _xmr(frame, ["segment"], screen_outliers, fix_after_n, rules)
    return charted.select(SERIES_COLUMNS)


def spc_monthly_table(
    performance_monthly: pl.DataFrame,
    improvement_directions: pl.DataFrame,
    *,
    screen_outliers: bool = True,
    fix_after_n: int | None = None,
    rules: XmrRules | None = None,
) -> pl.DataFrame:
    """`spc_monthly` from `performance_monthly`: an XmR chart of every (org_code, measure) series.

    `improvement_directions` needs columns `measure` and `improvement_direction` (increase, decrease or neutral),
    as in data/reference/performance_measures.csv. Raises ValueError for a measure without a direction, an unknown
    direction, or a repeated (org_code, measure, period_month).
    """
    rules = rules or default_rules()
    keys = ["org_code", "measure"]
    directions = improvement_directions.select("measure", "improvement_direction").unique()
    if directions["measure"].is_duplicated().any():
        raise ValueError("improvement_directions gives more than one direction for a measure")
    unknown = sorted(set(directions["improvement_direction"]) - IMPROVEMENT_SIGN.keys())
    if unknown:
        raise ValueError(f"unknown improvement direction(s) {unknown}; expected one of {sorted(IMPROVEMENT_SIGN)}")
    undirected = sorted(set(performance_monthly["measure"]) - set(directions["measure"]))
    if undirected:
        raise ValueError(f"no improvement direction for measure(s) {undirected}")
    series = performance_monthly.select(*keys, date="period_month", value=pl.col("value").cast(pl.Float64))
    if series["date"].null_count():
        raise ValueError("performance_monthly has rows without a period_month")
    repeated = series.filter(pl.struct(*keys, "date").is_duplicated())
    if repeated.height:
        raise ValueError(f"performance_monthly repeats (org_code, measure, period_month), e.g. {repeated.row(0)}")
    series = series.join(
        directions.select(
            "measure",
            improvement=pl.col("improvement_direction").replace_strict(IMPROVEMENT_SIGN, return_dtype=pl.Int8),
        ),
        on="measure",
    ).with_columns(segment=pl.lit(0, pl.Int32))
    charted = _xmr(series.sort(*keys, "date"), [*keys, "segment"], screen_outliers, fix_after_n, rules)
    return charted.rename({"date": "period_month"}).select(SPC_MONTHLY_COLUMNS)


def _as_float_series(values: Sequence[float | None] | pl.Series) -> pl.Series:
    if isinstance(values, pl.Series):
        return values.cast(pl.Float64)
    return pl.Series(values, dtype=pl.Float64, strict=False)


def _improvement_sign(direction: str) -> int:
    try:
        return IMPROVEMENT_SIGN[direction]
    except KeyError:
        raise ValueError(f"improvement direction {direction!r} is not one of {', '.join(IMPROVEMENT_SIGN)}") from None


def _xmr(
    frame: pl.DataFrame, keys: list[str], screen_outliers: bool, fix_after_n: int | None, rules: XmrRules
) -> pl.DataFrame:
    """Limits and special causes per `keys` group of `frame` (columns keys, date, value, improvement; sorted)."""
    if fix_after_n is not None and fix_after_n < rules.min_fix_after_points:
        raise ValueError(f"limits can be fixed after no fewer than {rules.min_fix_after_points} points")
    frame = frame.with_columns(pl.col("value").fill_nan(None))
    points = frame.filter(pl.col("value").is_not_null())
    # a run-length group number (the frame is sorted by keys) makes every window cheap: integer groups for `over`,
    # and shifts and rolling sums over the whole column, masked where they would reach into the next series
    new_series = pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys]).fill_null(True)
    points = points.with_columns(_series=new_series.cum_sum()).with_columns(
        _position=pl.int_range(pl.len()).over("_series"), _length=pl.len().over("_series")
    )
    charted = _special_causes(_limits(points, screen_outliers, fix_after_n, rules), rules)
    limits = charted.group_by(keys).agg(pl.col("mean", "lpl", "upl").first())
    return (
        frame.join(limits, on=keys, how="left")
        .join(charted.select(*keys, "date", "point_type", "special_cause_rule"), on=[*keys, "date"], how="left")
        .sort(*keys, "date")
    )


def _within_series(expr: pl.Expr, offset: int) -> pl.Expr:
    """expr shifted by `offset` rows (positive: earlier rows; negative: later ones); null past the series' ends."""
    position, length = pl.col("_position"), pl.col("_length")
    inside = position >= offset if offset >= 0 else position - offset < length
    return pl.when(inside).then(expr.shift(offset))


def _trailing_sum(expr: pl.Expr, window: int) -> pl.Expr:
    """Sum of expr over this row and the window - 1 before it, within the series; null for the first rows."""
    return pl.when(pl.col("_position") >= window - 1).then(expr.rolling_sum(window_size=window))


def _limits(points: pl.DataFrame, screen_outliers: bool, fix_after_n: int | None, rules: XmrRules) -> pl.DataFrame:
    value = pl.col("value")
    baseline = value if fix_after_n is None else pl.when(pl.col("_position") < fix_after_n).then(value)
    points = points.with_columns(
        mean=baseline.mean().over("_series"),
        _moving_range=(baseline - _within_series(baseline, 1)).abs(),
    )
    if screen_outliers:
        first_mean = pl.col("_moving_range").mean().over("_series")
        # an all-zero set of moving ranges has nothing to screen (see the module notes)
        outlier = (first_mean > 0) & (pl.col("_moving_range") >= rules.outlier_screen_multiplier * first_mean)
        points = points.with_columns(_moving_range=pl.when(~outlier).then(pl.col("_moving_range")))
    spread = rules.process_limit_multiplier * pl.col("_moving_range").mean().over("_series")
    return points.with_columns(
        lpl=pl.col("mean") - spread, upl=pl.col("mean") + spread, _near_distance=rules.near_limit_fraction * spread
    )


def _special_causes(points: pl.DataFrame, rules: XmrRules) -> pl.DataFrame:
    value, mean = pl.col("value"), pl.col("mean")
    points = points.with_columns(
        _outside=((value > pl.col("upl")) | (value < pl.col("lpl"))).fill_null(False),
        _side=(value - mean).sign().cast(pl.Int32),
        _step=(value - _within_series(value, 1)).sign(),
    ).with_columns(
        _near=(~pl.col("_outside") & ((value - mean).abs() > pl.col("_near_distance"))).fill_null(False),
    )

    def run_ends(column: str, length: int) -> pl.Expr:
        """+1 / -1 where `length` consecutive values of the column are all +1 / all -1; null elsewhere."""
        total = _trailing_sum(pl.col(column), length)
        return pl.when(total.abs() == length).then(total.sign())

    window = rules.near_limit_window
    points = points.with_columns(
        _trend_end=run_ends("_step", rules.trend_points - 1),
        _shift_end=run_ends("_side", rules.shift_points),
        _window_near=(_trailing_sum(pl.col("_near").cast(pl.Int32), window) >= rules.near_limit_points)
        & (_trailing_sum(pl.col("_side"), window).abs() == window),
    )

    def covering(column: str, length: int) -> list[pl.Expr]:
        """The column at the ends of every run of `length` points that could cover this point, latest first."""
        return [_within_series(pl.col(column), -offset) for offset in reversed(range(length))]

    trend_direction = pl.coalesce(covering("_trend_end", rules.trend_points))
    shift = pl.coalesce(covering("_shift_end", rules.shift_points)).is_not_null()
    two_in_three = pl.col("_near") & pl.any_horizontal(covering("_window_near", window)).fill_null(False)
    rule = (
        pl.when(pl.col("_outside"))
        .then(pl.lit("outside_limits"))
        .when(trend_direction.is_not_null())
        .then(pl.lit("trend"))
        .when(two_in_three)
        .then(pl.lit("two_in_three"))
        .when(shift)
        .then(pl.lit("shift"))
    )
    points = points.with_columns(
        special_cause_rule=rule, _signal=pl.when(rule == "trend").then(trend_direction).otherwise(pl.col("_side"))
    )
    signal, improvement = pl.col("_signal"), pl.col("improvement")
    point_type = (
        pl.when(pl.col("special_cause_rule").is_null())
        .then(pl.lit("common_cause"))
        .when(improvement == 0)
        .then(
            pl.when(signal > 0)
            .then(pl.lit("special_cause_neutral_high"))
            .otherwise(pl.lit("special_cause_neutral_low"))
        )
        .when(signal * improvement > 0)
        .then(pl.lit("special_cause_improvement"))
        .otherwise(pl.lit("special_cause_concern"))
    )
    return points.with_columns(point_type=point_type)
