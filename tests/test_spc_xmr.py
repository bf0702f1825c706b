"""XmR charts the Making Data Count way (assets/publish/spc/xmr.py), checked against series worked by hand.

Every series below is SYNTHETIC, made up to exercise one rule, except the sickness absence test, which uses real
rows. The expected numbers are worked out by hand in the comments: limits = mean ± 2.66 × mean moving range (mR);
"near" a limit = more than 2/3 × 2.66 × mR = 1.7733 × mR from the mean; moving ranges of 3.267 × mR or more are
screened out before the limits are set.
"""

from datetime import date
from itertools import accumulate
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from assets.publish.spc.xmr import (
    POINT_TYPES,
    SERIES_COLUMNS,
    SPC_MONTHLY_COLUMNS,
    SPECIAL_CAUSE_RULES,
    default_rules,
    spc_monthly_table,
    spc_series,
)

C, IMPROVE, CONCERN = "common_cause", "special_cause_improvement", "special_cause_concern"
HIGH, LOW = "special_cause_neutral_high", "special_cause_neutral_low"


def months(count: int, start: date = date(2023, 1, 1)) -> list[date]:
    """First days of `count` consecutive months."""
    first = start.year * 12 + start.month - 1
    return [date((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(count)]


def chart(values: list[float | None], direction: str = "increase", **options: object) -> pl.DataFrame:
    return spc_series(months(len(values)), values, direction, **options)


def assert_limits(result: pl.DataFrame, mean: float, lpl: float | None, upl: float | None) -> None:
    assert result["mean"].to_list() == pytest.approx([mean] * result.height)
    assert result["lpl"].to_list() == ([None] * result.height if lpl is None else pytest.approx([lpl] * result.height))
    assert result["upl"].to_list() == ([None] * result.height if upl is None else pytest.approx([upl] * result.height))


def test_the_rules_file_holds_the_nhsrplotthedots_constants() -> None:
    rules = default_rules()
    assert rules.process_limit_multiplier == 2.66
    assert rules.near_limit_fraction == pytest.approx(2 / 3)
    assert rules.outlier_screen_multiplier == 3.267
    assert (rules.trend_points, rules.shift_points) == (7, 7)
    assert (rules.near_limit_window, rules.near_limit_points) == (3, 2)
    assert (rules.min_fix_after_points, rules.short_segment_points) == (12, 12)


def test_a_point_outside_the_limits() -> None:
    values = [10, 12, 10, 12, 10, 12, 40, 10, 12, 10, 12, 10]
    result = chart(values)
    # mean = (6 × 10 + 5 × 12 + 40) / 12 = 160 / 12 = 13.3333
    # moving ranges: 2, 2, 2, 2, 2, 28, 30, 2, 2, 2, 2 → mR = 76 / 11 = 6.9091; 3.267 × 6.9091 = 22.57
    # → 28 and 30 are screened out: mR = 18 / 9 = 2 → limits 13.3333 ± 5.32 = 8.0133 and 18.6533
    assert_limits(result, 160 / 12, 160 / 12 - 5.32, 160 / 12 + 5.32)
    # 40 > 18.6533. The others are not near: |10 − 13.3333| = 3.3333 < 1.7733 × 2 = 3.5467;
    # they sit below the mean in runs of 6 and 5 (no shift) and never rise 7 times in a row
    assert result["point_type"].to_list() == [C] * 6 + [IMPROVE] + [C] * 5
    assert result["special_cause_rule"].to_list() == [None] * 6 + ["outside_limits"] + [None] * 5
    assert result.columns == list(SERIES_COLUMNS)


def test_outlier_screening_changes_the_limits() -> None:
    values = [20, 22, 20, 22, 20, 22, 0, 2, 0, 2, 0, 2]
    # mean = (3 × 20 + 3 × 22 + 3 × 0 + 3 × 2) / 12 = 132 / 12 = 11
    # moving ranges: 2, 2, 2, 2, 2, 22, 2, 2, 2, 2, 2 → mR = 42 / 11 = 3.8182
    screened = chart(values)
    # 22 ≥ 3.267 × 3.8182 = 12.47 is screened out: mR = 20 / 10 = 2 → limits 11 ± 5.32 = 5.68 and 16.32,
    # so every point (20 and 22 above, 0 and 2 below) is outside them
    assert_limits(screened, 11, 5.68, 16.32)
    assert screened["special_cause_rule"].to_list() == ["outside_limits"] * 12
    assert screened["point_type"].to_list() == [IMPROVE] * 6 + [CONCERN] * 6
    unscreened = chart(values, screen_outliers=False)
    # mR = 3.8182 → limits 11 ± 2.66 × 42 / 11 = 11 ± 10.1564 = 0.8436 and 21.1564; near beyond 11 ± 6.7709.
    # 22 and 0 are outside; 20 and 2 (9 from the mean) are near, two of them in every run of 3 on their side
    assert_limits(unscreened, 11, 11 - 2.66 * 42 / 11, 11 + 2.66 * 42 / 11)
    assert (
        unscreened["special_cause_rule"].to_list()
        == ["two_in_three", "outside_limits"] * 3
        + [
            "outside_limits",
            "two_in_three",
        ]
        * 3
    )


@pytest.mark.parametrize(
    ("values", "direction", "trend_type"),
    [
        # rising 7, 8, … 13 from month 5; mirrored (20 − x) for the falling trend
        ([12, 8, 12, 8, 7, 8, 9, 10, 11, 12, 13, 10], "increase", IMPROVE),
        ([12, 8, 12, 8, 7, 8, 9, 10, 11, 12, 13, 10], "decrease", CONCERN),
        ([8, 12, 8, 12, 13, 12, 11, 10, 9, 8, 7, 10], "increase", CONCERN),
        ([8, 12, 8, 12, 13, 12, 11, 10, 9, 8, 7, 10], "decrease", IMPROVE),
        ([8, 12, 8, 12, 13, 12, 11, 10, 9, 8, 7, 10], "neutral", LOW),
    ],
)
def test_seven_points_rising_or_falling(values: list[float], direction: str, trend_type: str) -> None:
    result = chart(values, direction)
    # mean = (12 + 8 + 12 + 8 + 7 + … + 13 + 10) / 12 = (40 + 70 + 10) / 12 = 10
    # moving ranges: 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 3 → mR = 22 / 11 = 2 (none ≥ 6.534) → limits 4.68 and 15.32;
    # near beyond 10 ± 3.5467: no point is. Sides of the mean never run 7 long (10 sits on the mean).
    assert_limits(result, 10, 4.68, 15.32)
    # months 5–11 form the trend, and every one of them takes its direction, even those across the mean
    assert result["special_cause_rule"].to_list() == [None] * 4 + ["trend"] * 7 + [None]
    assert result["point_type"].to_list() == [C] * 4 + [trend_type] * 7 + [C]


@pytest.mark.parametrize(
    ("values", "near_type", "mean"),
    [
        ([19, 21, 19, 21, 19, 21, 19, 26, 21, 26] + [19, 21] * 5, IMPROVE, 20.6),
        ([21, 19, 21, 19, 21, 19, 21, 14, 19, 14] + [21, 19] * 5, CONCERN, 19.4),
    ],
)
def test_two_of_three_near_a_limit_flags_only_the_near_points(values: list[float], near_type: str, mean: float) -> None:
    result = chart(values)
    # mean = (10 × 19 + 8 × 21 + 2 × 26) / 20 = 412 / 20 = 20.6 (mirrored: 40 − 20.6 = 19.4)
    # moving ranges: six 2s, 7, 5, 5, 7, nine 2s → mR = 54 / 19 = 2.8421 (none ≥ 9.285)
    # limits 20.6 ± 2.66 × 2.8421 = 20.6 ± 7.56; near beyond 20.6 ± 5.04 = 25.64 (mirrored 14.36)
    assert_limits(result, mean, mean - 2.66 * 54 / 19, mean + 2.66 * 54 / 19)
    # months 8 and 10 (26, 5.4 from the mean) are near; month 9 (21) is on the same side but not near
    expected_rule = [None] * 7 + ["two_in_three", None, "two_in_three"] + [None] * 10
    assert result["special_cause_rule"].to_list() == expected_rule
    assert result["point_type"].to_list() == [C] * 7 + [near_type, C, near_type] + [C] * 10


def test_two_near_points_on_opposite_sides_are_common_cause() -> None:
    # NHSRplotthedots tests/testthat/test-ptd_spc_standard.R, "it only reports special cause for 2 of 3 points
    # close to limits when they are on the same side of the mean" (issue #143): 1, −1 eight times, then the last
    # two set to 5.5 and −5.5
    values = [1, -1] * 7 + [5.5, -5.5]
    result = chart(values)
    # mean 0; moving ranges: thirteen 2s, 6.5, 11 → mR = 43.5 / 15 = 2.9; 11 ≥ 3.267 × 2.9 = 9.474 is screened
    # out → mR = 32.5 / 14 = 2.3214 → limits ± 6.175; near beyond ± 4.1167, so both 5.5 and −5.5 are near
    assert_limits(result, 0, -2.66 * 32.5 / 14, 2.66 * 32.5 / 14)
    assert result["point_type"].to_list() == [C] * 16


@pytest.mark.parametrize(
    ("direction", "first_seven", "last_seven"),
    [("increase", CONCERN, IMPROVE), ("decrease", IMPROVE, CONCERN), ("neutral", LOW, HIGH)],
)
def test_seven_points_on_one_side_flag_the_whole_run(direction: str, first_seven: str, last_seven: str) -> None:
    values = [7, 9, 7, 9, 7, 9, 7, 13, 11, 13, 11, 13, 11, 13]
    result = chart(values, direction)
    # mean = (4 × 7 + 3 × 9 + 4 × 13 + 3 × 11) / 14 = 140 / 14 = 10
    # moving ranges: six 2s, 6, six 2s → mR = 30 / 13 = 2.3077 (6 < 3.267 × 2.3077 = 7.539 stays)
    # limits 10 ± 6.1385 = 3.8615 and 16.1385; near beyond 10 ± 4.0923: no point is; no 7-point trend
    assert_limits(result, 10, 10 - 2.66 * 30 / 13, 10 + 2.66 * 30 / 13)
    assert result["special_cause_rule"].to_list() == ["shift"] * 14
    assert result["point_type"].to_list() == [first_seven] * 7 + [last_seven] * 7


def test_six_points_on_one_side_are_not_a_shift() -> None:
    result = chart([7, 9, 7, 9, 7, 9, 13, 11, 13, 11, 13, 11])
    # mean = 120 / 12 = 10; moving ranges: five 2s, 4, five 2s → mR = 24 / 11 = 2.1818 → limits 10 ± 5.8036,
    # near beyond 10 ± 3.8691: none; runs of 6 below and 6 above
    assert_limits(result, 10, 10 - 2.66 * 24 / 11, 10 + 2.66 * 24 / 11)
    assert result["point_type"].to_list() == [C] * 12


def test_outside_the_limits_takes_precedence_over_a_trend() -> None:
    result = chart([1, 2, 3, 4, 5, 6, 7])
    # mean 4; moving ranges all 1 → mR = 1 → limits 4 ± 2.66 = 1.34 and 6.66
    assert_limits(result, 4, 1.34, 6.66)
    # 1 < 1.34 and 7 > 6.66 are outside; all seven rise. Month 1 is below the lower limit, so it is a concern
    # although the trend it belongs to is an improvement
    assert result["special_cause_rule"].to_list() == ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]
    assert result["point_type"].to_list() == [CONCERN] + [IMPROVE] * 6


def test_trend_then_two_in_three_then_shift() -> None:
    values = [4, 8, 4, 8, 4, 8, 4, 11, 12, 13, 14, 15, 16, 17]
    result = chart(values)
    # mean = (40 + 11 + … + 17) / 14 = (40 + 98) / 14 = 9.8571
    # moving ranges: six 4s, 7, six 1s → mR = 37 / 13 = 2.8462 (none ≥ 9.298)
    # limits 9.8571 ± 7.5708 = 2.2863 and 17.4279; near beyond 9.8571 ± 5.0472 = 4.8099 and 14.9044
    assert_limits(result, 138 / 14, 138 / 14 - 2.66 * 37 / 13, 138 / 14 + 2.66 * 37 / 13)
    # months 1–7 are below the mean (shift), and the 4s among them are near the lower limit in runs of 3 below
    # the mean (two in three). Month 7 (4) starts the rise 4, 11, …, 17: the trend outranks both, and gives
    # months 12–14 (near the upper limit, above the mean 7 times) their rule too
    assert result["special_cause_rule"].to_list() == ["two_in_three", "shift"] * 3 + ["trend"] * 8
    # month 7 sits below the mean but takes the rising trend's direction
    assert result["point_type"].to_list() == [CONCERN] * 6 + [IMPROVE] * 8


def test_where_trends_meet_a_point_takes_the_later_trends_direction() -> None:
    # a rise from month 5 to a peak at month 12, then a fall to month 18
    peak = chart([0, 12, 0, 12, 0, 3, 4, 5, 6, 7, 8, 9, 8, 7, 6, 5, 4, 3, 12])
    # mean = 111 / 19 = 5.8421; moving ranges: 12, 12, 12, 12, 3, six 1s, six 1s, 9 → mR = 72 / 18 = 4 (none ≥ 13.07)
    # limits 5.8421 ± 10.64; near beyond 5.8421 ± 7.0933: none. Months 9–15 are above the mean, but in trends
    assert_limits(peak, 111 / 19, 111 / 19 - 10.64, 111 / 19 + 10.64)
    assert peak["special_cause_rule"].to_list() == [None] * 4 + ["trend"] * 14 + [None]
    # the peak (month 12) belongs to both trends and, as in NHSRplotthedots, takes the fall's direction
    assert peak["point_type"].to_list() == [C] * 4 + [IMPROVE] * 7 + [CONCERN] * 7 + [C]
    # a fall from month 5 to 11, then, after a jump up, another fall from month 12 to 18
    falls = chart([12, 0, 12, 0, 9, 8, 7, 6, 5, 4, 3, 7, 6, 5, 4, 3, 2, 1, 12, 0])
    # mean = 106 / 20 = 5.3; moving ranges: 12, 12, 12, 9, six 1s, 4, six 1s, 11, 12 → mR = 84 / 19 = 4.4211
    # (none ≥ 14.44); limits 5.3 ± 11.76; near beyond 5.3 ± 7.84: none; no 7 points on one side
    assert_limits(falls, 5.3, 5.3 - 2.66 * 84 / 19, 5.3 + 2.66 * 84 / 19)
    # month 11 (3) ends the first fall: a concern. NHSRplotthedots labels it "increasing" from the jump to month 12,
    # which belongs to the second fall (a deliberate difference, see the module notes)
    assert falls["point_type"].to_list() == [C] * 4 + [CONCERN] * 14 + [C] * 2


def test_fixed_limits_after_twelve_points() -> None:
    values = [9, 11] * 6 + [17, 16, 17]
    fixed = chart(values, fix_after_n=12)
    # the first 12: mean 10, moving ranges all 2 → mR = 2 → limits 4.68 and 15.32; 17 and 16 are beyond them
    assert_limits(fixed, 10, 4.68, 15.32)
    assert fixed["point_type"].to_list() == [C] * 12 + [IMPROVE] * 3
    assert fixed["special_cause_rule"].to_list()[12:] == ["outside_limits"] * 3
    unfixed = chart(values)
    # all 15: mean = 170 / 15 = 11.3333; moving ranges: eleven 2s, 6, 1, 1 → mR = 30 / 14 = 2.1429 (6 < 7.0)
    # limits 11.3333 ± 5.7 = 5.6333 and 17.0333; near beyond 11.3333 + 3.8 = 15.1333: 17, 16, 17 are near
    assert_limits(unfixed, 170 / 15, 170 / 15 - 2.66 * 30 / 14, 170 / 15 + 2.66 * 30 / 14)
    assert unfixed["special_cause_rule"].to_list()[12:] == ["two_in_three"] * 3
    with pytest.raises(ValueError, match="no fewer than 12"):
        chart(values, fix_after_n=11)


def test_rebasing_sets_separate_limits_per_segment() -> None:
    values = [9, 11] * 6 + [19, 21] * 6
    dates = months(24)
    # a new segment starts at the first month on or after the rebase date: December 2023, then January 2024
    assert spc_series(dates, values, rebase_dates=[date(2023, 12, 1)])["segment"].to_list() == [0] * 11 + [1] * 13
    rebased = spc_series(dates, values, rebase_dates=[date(2023, 12, 15)])
    assert rebased["segment"].to_list() == [0] * 12 + [1] * 12
    # each segment: alternating ±1 about its mean, moving ranges all 2 (none across the rebase) → mR = 2
    assert_limits(rebased.head(12), 10, 4.68, 15.32)
    assert_limits(rebased.tail(12), 20, 14.68, 25.32)
    assert rebased["point_type"].to_list() == [C] * 24
    single = spc_series(dates, values)
    # one segment: mean 15; moving ranges: eleven 2s, 8, eleven 2s → mR = 52 / 23 = 2.2609; 8 ≥ 7.386 is
    # screened out → mR = 2 → limits 9.68 and 20.32: the 9s and 21s are outside; the 11s and 19s are near
    # (4 > 3.5467 from the mean), two in every run of 3 on their side; and each half is a 12-point shift
    assert_limits(single, 15, 9.68, 20.32)
    assert (
        single["special_cause_rule"].to_list()
        == ["outside_limits", "two_in_three"] * 6
        + [
            "two_in_three",
            "outside_limits",
        ]
        * 6
    )
    assert single["point_type"].to_list() == [CONCERN] * 12 + [IMPROVE] * 12
    with pytest.raises(ValueError, match="rebase date"):
        spc_series(dates, values, rebase_dates=[date(2023, 1, 1)])
    with pytest.raises(ValueError, match="rebase date"):
        spc_series(dates, values, rebase_dates=[date(2025, 1, 2)])


def test_fewer_than_seven_points() -> None:
    result = chart([1, 2, 3, 4, 5, 6])
    # mean 3.5, mR = 1 → limits 0.84 and 6.16; 1 and 6 are near (beyond 3.5 ± 1.7733) but one per run of 3
    assert_limits(result, 3.5, 0.84, 6.16)
    assert result["point_type"].to_list() == [C] * 6


@pytest.mark.parametrize("screen_outliers", [True, False])
def test_a_flat_series_has_limits_on_the_mean_and_no_special_cause(screen_outliers: bool) -> None:
    result = chart([5] * 8, screen_outliers=screen_outliers)
    # every moving range is 0: lpl = upl = mean (NHSRplotthedots returns NaN limits when screening is on)
    assert_limits(result, 5, 5, 5)
    assert result["point_type"].to_list() == [C] * 8


def test_a_single_point_has_a_mean_but_no_limits() -> None:
    result = chart([42.5])
    assert_limits(result, 42.5, None, None)
    assert result["point_type"].to_list() == [C]


def test_missing_months_are_skipped_and_moving_ranges_span_the_gap() -> None:
    dates = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 6, 1), *months(3, date(2024, 7, 1))]
    result = spc_series(dates, [1, 2, 3, 4, 5, 6, 7])
    # April and May are absent: the moving range from March (3) to June (4) is 1, as for consecutive months,
    # so the chart is that of 1, 2, …, 7 (see the precedence test): limits 1.34 and 6.66, a trend across the gap
    assert result["date"].to_list() == dates
    assert_limits(result, 4, 1.34, 6.66)
    assert result["special_cause_rule"].to_list() == ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]


def test_null_values_are_skipped_like_missing_months() -> None:
    result = chart([1, 2, 3, None, 4, 5, float("nan"), 6, 7])
    # the same chart as 1, …, 7; the null and NaN rows keep their months and the limits, with no point type
    assert result.height == 9
    assert result["value"].to_list() == [1, 2, 3, None, 4, 5, None, 6, 7]
    assert_limits(result, 4, 1.34, 6.66)
    assert result["point_type"].to_list() == [CONCERN, IMPROVE, IMPROVE, None, IMPROVE, IMPROVE, None, IMPROVE, IMPROVE]


def test_input_order_does_not_matter_and_output_is_in_date_order() -> None:
    dates = months(7)
    result = spc_series(list(reversed(dates)), [7, 6, 5, 4, 3, 2, 1])
    assert result["date"].to_list() == dates
    assert result["value"].to_list() == [1, 2, 3, 4, 5, 6, 7]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="improvement direction 'up'"):
        chart([1, 2, 3], "up")
    with pytest.raises(ValueError, match="dates repeat"):
        spc_series([date(2024, 1, 1)] * 2, [1, 2])
    with pytest.raises(ValueError, match="2 dates but 1 values"):
        spc_series(months(2), [1])
    with pytest.raises(ValueError, match="every point needs a date"):
        spc_series(pl.Series([date(2024, 1, 1), None]), [1, 2])
    assert spc_series([], []).height == 0


# --- spc_monthly from performance_monthly -------------------------------------------------------------------------

DIRECTIONS = pl.DataFrame(
    {
        "measure": ["ae_4hr_pct_all", "rtt_52w_plus", "sickness_absence_pct"],
        "label": ["A&E 4 hours", "52+ week waiters", "Sickness absence"],
        "unit": ["%", "patients", "%"],
        "improvement_direction": ["increase", "decrease", "decrease"],
    }
)


def performance_rows(org_code: str, measure: str, values: list[float | None]) -> pl.DataFrame:
    """SYNTHETIC rows shaped like the published contract table performance_monthly."""
    return pl.DataFrame(
        {
            "org_code": org_code,
            "period_month": months(len(values)),
            "measure": measure,
            "numerator": None,
            "denominator": None,
            "value": values,
            "source_file": "synthetic",
        },
        schema_overrides={"numerator": pl.Float64, "denominator": pl.Float64, "value": pl.Float64},
    )


def test_spc_monthly_charts_each_series_with_its_measures_direction() -> None:
    shift = [7, 9, 7, 9, 7, 9, 7, 13, 11, 13, 11, 13, 11, 13]  # the shift test's series: mean 10, limits 10 ± 6.1385
    performance = pl.concat(
        [
            performance_rows("RX1", "rtt_52w_plus", shift),
            performance_rows("RX1", "ae_4hr_pct_all", shift),
            performance_rows("RX2", "ae_4hr_pct_all", [1, 2, 3, 4, 5, 6, 7]),
        ]
    ).sample(fraction=1.0, shuffle=True, seed=7)
    table = spc_monthly_table(performance, DIRECTIONS)
    assert table.columns == list(SPC_MONTHLY_COLUMNS)
    assert table.height == 35
    rtt = table.filter(org_code="RX1", measure="rtt_52w_plus")
    ae = table.filter(org_code="RX1", measure="ae_4hr_pct_all")
    assert rtt["period_month"].to_list() == months(14)
    assert_limits(rtt, 10, 10 - 2.66 * 30 / 13, 10 + 2.66 * 30 / 13)
    # fewer 52-week waiters is better, so the run below the mean is the improvement; for A&E the reverse
    assert rtt["point_type"].to_list() == [IMPROVE] * 7 + [CONCERN] * 7
    assert ae["point_type"].to_list() == [CONCERN] * 7 + [IMPROVE] * 7
    # series are charted apart: RX2's 1…7 keeps its own limits 1.34 and 6.66
    rx2 = table.filter(org_code="RX2")
    assert_limits(rx2, 4, 1.34, 6.66)
    assert rx2["special_cause_rule"].to_list() == ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]


def test_spc_monthly_refuses_unknown_measures_directions_and_repeated_months() -> None:
    series = performance_rows("RX1", "cancer_62d_pct", [1, 2, 3])
    with pytest.raises(ValueError, match=r"no improvement direction for measure\(s\) \['cancer_62d_pct'\]"):
        spc_monthly_table(series, DIRECTIONS)
    sideways = DIRECTIONS.with_columns(improvement_direction=pl.lit("sideways"))
    with pytest.raises(ValueError, match="unknown improvement direction"):
        spc_monthly_table(performance_rows("RX1", "ae_4hr_pct_all", [1, 2]), sideways)
    twice = pl.concat([performance_rows("RX1", "ae_4hr_pct_all", [1, 2])] * 2)
    with pytest.raises(ValueError, match="repeats"):
        spc_monthly_table(twice, DIRECTIONS)


# --- real data ----------------------------------------------------------------------------------------------------

# Mersey and West Lancashire Teaching Hospitals (RBN), SICKNESS_ABSENCE_RATE_PERCENT, April 2024 to March 2025,
# read by hand from sickness-absence/nhs_sickness_absence_<YYYY-MM>.csv: rows 231 (2024-04 … 2024-09), 229 (2024-10),
# 227 (2024-11) and 226 (2024-12 … 2025-03), counting the header as row 1
RBN_SICKNESS = [3.85, 3.86, 3.94, 4.06, 3.53, 3.77, 4.08, 4.12, 4.33, 4.57, 4.45, 4.25]


def test_real_sickness_absence_series(real_data: Path) -> None:
    files = sorted((real_data / "sickness-absence").glob("nhs_sickness_absence_*.csv"))
    read = [pl.read_csv(f).filter(ORG_CODE="RBN")["SICKNESS_ABSENCE_RATE_PERCENT"].item() for f in files]
    assert read == RBN_SICKNESS
    result = spc_series(months(12, date(2024, 4, 1)), RBN_SICKNESS, "decrease")
    # mean = 48.81 / 12 = 4.0675
    # moving ranges: .01 .08 .12 .53 .24 .31 .04 .21 .24 .12 .20 → mR = 2.10 / 11 = 0.190909;
    # 0.53 < 3.267 × 0.190909 = 0.6237 stays → limits 4.0675 ± 0.507818 = 3.559682 and 4.575318;
    # near beyond 4.0675 ± 0.338545 = 3.728955 and 4.406045
    assert_limits(result, 4.0675, 4.0675 - 2.66 * 2.10 / 11, 4.0675 + 2.66 * 2.10 / 11)
    # August (3.53) is below the lower limit: lower sickness is better. January (4.57) and February (4.45) are
    # near the upper limit with December and March on the same side. April–September sit below the mean and
    # October–March above it: runs of 6, no shift; August to January rise 5 times, no trend
    expected = [C] * 4 + [IMPROVE] + [C] * 4 + [CONCERN, CONCERN, C]
    assert result["point_type"].to_list() == expected
    assert result["special_cause_rule"].to_list()[4] == "outside_limits"
    assert result["special_cause_rule"].to_list()[9:11] == ["two_in_three", "two_in_three"]


# --- against a loop-by-loop transcription of NHSRplotthedots v0.2 -------------------------------------------------


def sign(x: float) -> int:
    return (x > 0) - (x < 0)


def plotthedots_transcription(y: list[float], improvement: int, screen_outliers: bool = True) -> list[tuple]:
    """(rule, point_type) per point of one segment, transcribed loop by loop from NHSRplotthedots v0.2
    (ptd_spc_standard, ptd_special_cause_type, ptd_point_type), with this project's documented differences:
    nothing is screened when every moving range is 0, and a trend point takes the direction of the latest trend
    it belongs to (R takes the step to the next point whenever that point is in any trend)."""
    n = len(y)
    mean = sum(y) / n
    mr = [abs(y[i] - y[i - 1]) for i in range(1, n)]
    amr = sum(mr) / len(mr) if mr else None
    if screen_outliers and amr:
        mr = [r for r in mr if r < 3.267 * amr]
        amr = sum(mr) / len(mr)
    if amr is None:
        outside = close = [False] * n
    else:
        limitclose = 2 * (2.66 / 3)
        outside = [v > mean + 2.66 * amr or v < mean - 2.66 * amr for v in y]
        close = [
            not o and (v < mean - limitclose * amr or v > mean + limitclose * amr)
            for v, o in zip(y, outside, strict=True)
        ]
    rtm = [sign(v - mean) for v in y]
    padded = [0] * 6 + rtm
    one_side_ends = [
        int(padded[i] != 0 and all(padded[i] == padded[i - k] for k in range(1, 7))) for i in range(6, n + 6)
    ]
    trend_ends = [0] * n
    for i in range(6, n):
        d = [sign(y[i - k] - y[i - k - 1]) for k in range(6)]
        trend_ends[i] = 1 if all(s == 1 for s in d) else -1 if all(s == -1 for s in d) else 0

    def part_of_seven(ends: list[int]) -> list[bool]:
        padded_ends = ends + [0] * 6
        return [any(abs(padded_ends[i + k]) == 1 for k in range(7)) for i in range(n)]

    vp, rp = [0, 0, *close, 0, 0], [0, 0, *rtm, 0, 0]
    two_in_three = [
        close[i] and any(sum(vp[i + a : i + a + 3]) >= 2 and abs(sum(rp[i + a : i + a + 3])) == 3 for a in range(3))
        for i in range(n)
    ]
    in_trend, in_side_run = part_of_seven(trend_ends), part_of_seven(one_side_ends)
    rows = []
    for i in range(n):
        if outside[i]:
            rule, direction = "outside_limits", rtm[i]
        elif in_trend[i]:
            rule, direction = "trend", next(trend_ends[e] for e in range(min(i + 6, n - 1), i - 1, -1) if trend_ends[e])
        elif two_in_three[i]:
            rule, direction = "two_in_three", rtm[i]
        elif in_side_run[i]:
            rule, direction = "shift", rtm[i]
        else:
            rows.append((None, C))
            continue
        if improvement == 0:
            rows.append((rule, HIGH if direction > 0 else LOW))
        else:
            rows.append((rule, IMPROVE if direction * improvement > 0 else CONCERN))
    return rows


def walk(steps: st.SearchStrategy[int]) -> st.SearchStrategy[list[int]]:
    return st.lists(steps, min_size=1, max_size=30).map(lambda s: list(accumulate(s)))


# random walks (drifting ones make trends and shifts common) and small-integer noise (ties, flat runs)
SERIES = st.one_of(walk(st.integers(-3, 3)), walk(st.integers(-1, 3)), st.lists(st.integers(0, 6), min_size=1))


@settings(max_examples=120, deadline=None)
@given(
    values=SERIES,
    direction=st.sampled_from(["increase", "decrease", "neutral"]),
    screen_outliers=st.booleans(),
)
def test_matches_the_plotthedots_transcription(values: list[int], direction: str, screen_outliers: bool) -> None:
    result = chart(values, direction, screen_outliers=screen_outliers)
    improvement = {"increase": 1, "decrease": -1, "neutral": 0}[direction]
    expected = plotthedots_transcription(values, improvement, screen_outliers)
    assert list(zip(result["special_cause_rule"], result["point_type"], strict=True)) == expected
    assert set(result["point_type"]) <= set(POINT_TYPES)
    assert set(result["special_cause_rule"].drop_nulls()) <= set(SPECIAL_CAUSE_RULES)


@settings(max_examples=25, deadline=None)
@given(series=st.lists(SERIES, min_size=1, max_size=4))
def test_the_table_charts_each_series_as_spc_series_does(series: list[list[int]]) -> None:
    performance = pl.concat([performance_rows(f"R{i}", "ae_4hr_pct_all", values) for i, values in enumerate(series)])
    table = spc_monthly_table(performance, DIRECTIONS)
    for i, values in enumerate(series):
        alone = chart(values).drop("segment", "special_cause_rule").rename({"date": "period_month"})
        assert_frame_equal(table.filter(org_code=f"R{i}").select(alone.columns), alone)
