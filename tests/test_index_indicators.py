"""Building the long indicators table and normalising it within group and year (synthetic hand-made frames)."""

import polars as pl
import pytest

from assets.indicators.build import build_indicators, normalise
from pipeline.errors import InputDataError
from tests.helpers.index_frames import (
    ACUTE,
    AMBULANCE,
    framework_with,
    indicator_rows,
    measure_indicator,
    organisations,
    people_promise,
    performance,
    survey_indicator,
    survey_items,
)


def _scores(frame: pl.DataFrame) -> dict[str, float | None]:
    return dict(frame.select("org_code", "norm_score").iter_rows())


def test_zscore_uses_the_population_sd_within_group_and_year() -> None:
    frame = indicator_rows(
        [("T1", 2024, "x", 1.0), ("T2", 2024, "x", 2.0), ("T3", 2024, "x", 3.0), ("T4", 2024, "x", 6.0)]
    )
    other = indicator_rows([("T5", 2024, "x", 10.0), ("T6", 2024, "x", 20.0)], group=AMBULANCE)
    scores = _scores(normalise(pl.concat([frame, other]), "zscore", min_peers=2))
    # mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5, SD 1.870829
    assert scores["T1"] == pytest.approx(-2 / 1.870829, abs=1e-6)
    assert scores["T2"] == pytest.approx(-1 / 1.870829, abs=1e-6)
    assert scores["T3"] == 0.0
    assert scores["T4"] == pytest.approx(3 / 1.870829, abs=1e-6)
    # the ambulance pair is normalised on its own: mean 15, SD 5
    assert (scores["T5"], scores["T6"]) == (-1.0, 1.0)


def test_percentile_and_minmax_and_orientation() -> None:
    frame = indicator_rows(
        [("T1", 2024, "x", 1.0), ("T2", 2024, "x", 2.0), ("T3", 2024, "x", 3.0), ("T4", 2024, "x", 6.0)]
    )
    # mid-rank percentile (rank - 0.5) / 4
    assert _scores(normalise(frame, "percentile", 2)) == {"T1": 0.125, "T2": 0.375, "T3": 0.625, "T4": 0.875}
    # (x - 1) / (6 - 1)
    assert _scores(normalise(frame, "minmax", 2)) == pytest.approx({"T1": 0.0, "T2": 0.2, "T3": 0.4, "T4": 1.0})
    # higher is worse: the order reverses
    reversed_scores = _scores(normalise(frame.with_columns(orientation=pl.lit(-1)), "percentile", 2))
    assert reversed_scores == {"T1": 0.875, "T2": 0.625, "T3": 0.375, "T4": 0.125}


def test_ties_equal_values_and_too_few_peers() -> None:
    ties = indicator_rows([("T1", 2024, "x", 2.0), ("T2", 2024, "x", 2.0), ("T3", 2024, "x", 5.0)])
    # average ranks 1.5, 1.5, 3 -> (1.5 - 0.5) / 3 and (3 - 0.5) / 3
    assert _scores(normalise(ties, "percentile", 2)) == pytest.approx({"T1": 1 / 3, "T2": 1 / 3, "T3": 2.5 / 3})
    equal = indicator_rows([("T1", 2024, "x", 4.0), ("T2", 2024, "x", 4.0)])
    assert _scores(normalise(equal, "zscore", 2)) == {"T1": 0.0, "T2": 0.0}
    assert _scores(normalise(equal, "minmax", 2)) == {"T1": 0.5, "T2": 0.5}
    few = normalise(ties, "zscore", min_peers=4)
    assert few["norm_score"].null_count() == 3 and few["peers"].to_list() == [3, 3, 3]


@pytest.fixture
def mixed_inputs() -> dict[str, pl.DataFrame]:
    """Three acute trusts and an ICB over 2023-2024. q3i has a favourable % in both years (and a 0-10 score in
    2024 only); q12b has an unfavourable % in 2023 and only a 0-10 score in 2024; q9a exists in 2024 only."""
    orgs = organisations(
        [(code, year, ACUTE) for code in ("T1", "T2", "T3") for year in (2023, 2024)] + [("Q99", 2024, "ICBs")]
    )
    items = survey_items(
        [
            ("T1", 2023, "q3i", None, 30.0, None, 500),
            ("T2", 2023, "q3i", None, 40.0, None, 600),
            ("T3", 2023, "q3i", None, 50.0, None, 700),
            ("T1", 2024, "q3i", 5.0, 32.0, None, 510),
            ("T2", 2024, "q3i", 6.0, 41.0, None, 610),
            ("T3", 2024, "q3i", 7.0, 55.0, None, 710),
            ("Q99", 2024, "q3i", 9.0, 90.0, None, 50),
            ("T1", 2023, "q12b", None, None, 40.0, 500),
            ("T2", 2023, "q12b", None, None, 30.0, 600),
            ("T3", 2023, "q12b", None, None, 20.0, 700),
            ("T1", 2024, "q12b", 4.0, None, None, 510),
            ("T2", 2024, "q12b", 5.0, None, None, 610),
            ("T3", 2024, "q12b", 6.0, None, None, 710),
            ("T1", 2024, "q9a", 7.0, None, None, 505),
        ]
    )
    scores = people_promise([("T1", 2024, "E_1", 6.5, 480.0), ("T2", 2024, "E_1", 7.0, 590.0)])
    perf = performance(
        [
            ("T1", "2024-25", "sickness_absence_pct", 5.0, 1000.0),
            ("T2", "2024-25", "sickness_absence_pct", 4.0, 2000.0),
            ("T1", "2025-26", "sickness_absence_pct", 9.0, 1000.0),
            ("T1", "2023-24", "sickness_absence_pct", 4.5, 1000.0),
        ]
    )
    return {
        "staff_survey_items": items,
        "people_promise_scores": scores,
        "performance_annual": perf,
        "survey_organisations": orgs,
    }


@pytest.fixture
def mixed_framework():
    return framework_with(
        [
            survey_indicator("enough_staff", "q3i", 6, barrier="headspace"),
            survey_indicator("not_burnt_out", "q12b", 6, barrier="headspace"),
            survey_indicator("manager_encourages", "q9a", 1),
            measure_indicator("motivation", "people_promise_scores", "E_1", 1, barrier="motivation"),
            measure_indicator("sickness", "performance_annual", "sickness_absence_pct", 6, polarity="higher_worse"),
        ],
        min_peers=2,
    )


def test_value_type_is_chosen_per_indicator_and_recorded(mixed_inputs, mixed_framework) -> None:
    table = build_indicators(mixed_framework, **mixed_inputs)
    rows = {(r["org_code"], r["survey_year"], r["indicator_id"]): r for r in table.iter_rows(named=True)}
    # the ICB is not in a compared group
    assert "Q99" not in table["org_code"].to_list()
    # q3i: the favourable % covers both years, so 2024 also uses it (not the 0-10 score) - same meaning every year
    assert rows[("T3", 2024, "enough_staff")]["value_type"] == "pct_favourable"
    assert rows[("T3", 2024, "enough_staff")]["raw_value"] == 55.0
    assert rows[("T3", 2024, "enough_staff")]["base"] == 710.0
    # q12b: no type covers both years -> the unfavourable % in 2023 (higher is worse), the 0-10 score in 2024
    assert (rows[("T1", 2023, "not_burnt_out")]["value_type"], rows[("T1", 2023, "not_burnt_out")]["orientation"]) == (
        "pct_unfavourable",
        -1,
    )
    assert (rows[("T1", 2024, "not_burnt_out")]["value_type"], rows[("T1", 2024, "not_burnt_out")]["orientation"]) == (
        "score_0_10",
        1,
    )
    # 2023 burnout 40, 30, 20% oriented to -40, -30, -20: mean -30, population SD sqrt(200 / 3) = 8.164966
    assert rows[("T1", 2023, "not_burnt_out")]["norm_score"] == pytest.approx(-10 / 8.164966, abs=1e-6)
    assert rows[("T3", 2023, "not_burnt_out")]["norm_score"] == pytest.approx(10 / 8.164966, abs=1e-6)
    # q9a has one trust only: below min_peers = 2, so not normalised
    assert rows[("T1", 2024, "manager_encourages")]["norm_score"] is None
    assert rows[("T1", 2024, "manager_encourages")]["peers"] == 1
    # official People Promise score
    assert rows[("T2", 2024, "motivation")]["value_type"] == "official_score"
    # sickness absence: survey 2024 -> financial year 2024-25; higher is worse, so T2 (4.0%) beats T1 (5.0%)
    sickness = rows[("T1", 2024, "sickness")]
    assert (sickness["raw_value"], sickness["period"], sickness["orientation"], sickness["base"]) == (
        5.0,
        "2024-25",
        -1,
        1000.0,
    )
    assert sickness["norm_score"] == -1.0 and rows[("T2", 2024, "sickness")]["norm_score"] == 1.0
    assert rows[("T1", 2023, "sickness")]["raw_value"] == 4.5
    assert table.height == 3 * 2 + 3 * 2 + 1 + 2 + 3
    assert table.select("org_code", "survey_year", "indicator_id").is_unique().all()


def test_financial_year_offset_comes_from_the_settings(mixed_inputs, mixed_framework) -> None:
    shifted = build_indicators(mixed_framework.with_settings(financial_year_offset=1), **mixed_inputs)
    sickness = shifted.filter((pl.col("indicator_id") == "sickness") & (pl.col("survey_year") == 2024))
    assert sickness.select("org_code", "raw_value", "period").rows() == [("T1", 9.0, "2025-26")]


def test_an_unclassified_benchmarking_group_names_table_row_and_column(mixed_inputs, mixed_framework) -> None:
    orgs = mixed_inputs["survey_organisations"]
    # a group data/reference/benchmarking_groups.csv does not know has no is_trust
    broken = orgs.with_columns(is_trust=pl.when(pl.col("org_code") == "T2").then(None).otherwise("is_trust"))
    with pytest.raises(InputDataError) as error:
        build_indicators(mixed_framework, **{**mixed_inputs, "survey_organisations": broken})
    # rows are T1 2023, T1 2024, T2 2023, ...: the first bad row is the third
    assert str(error.value).startswith("file 'survey_organisations', row 3, column 'is_trust'")


def test_questions_not_comparable_with_2024_are_left_out(mixed_inputs, mixed_framework) -> None:
    items = mixed_inputs["staff_survey_items"].with_columns(
        comparable_with_2024=~((pl.col("survey_year") == 2023) & (pl.col("question_id") == "q3i"))
    )
    table = build_indicators(mixed_framework, **{**mixed_inputs, "staff_survey_items": items})
    enough_staff = table.filter(pl.col("indicator_id") == "enough_staff")
    assert enough_staff["survey_year"].unique().to_list() == [2024]
    # 2024 alone now covers every year q3i has, so its preferred 0-10 score is used
    assert enough_staff["value_type"].unique().to_list() == ["score_0_10"]
    kept = build_indicators(
        mixed_framework.with_settings(non_comparable_items="include"), **{**mixed_inputs, "staff_survey_items": items}
    )
    assert kept.filter(pl.col("indicator_id") == "enough_staff").height == 6


def test_a_part_year_performance_value_is_not_used(mixed_inputs, mixed_framework) -> None:
    part_year = mixed_inputs["performance_annual"].with_columns(
        months_covered=pl.when(pl.col("org_code") == "T2").then(9).otherwise(12)
    )
    table = build_indicators(mixed_framework, **{**mixed_inputs, "performance_annual": part_year})
    sickness = table.filter((pl.col("indicator_id") == "sickness") & (pl.col("survey_year") == 2024))
    assert sickness["org_code"].to_list() == ["T1"]
    lenient = build_indicators(
        mixed_framework.with_settings(min_months_covered=9), **{**mixed_inputs, "performance_annual": part_year}
    )
    assert lenient.filter((pl.col("indicator_id") == "sickness") & (pl.col("survey_year") == 2024)).height == 2


def test_a_performance_rate_on_too_few_patients_is_not_used(mixed_inputs, mixed_framework) -> None:
    """min_performance_denominator = 30: a rate resting on 29 patients is left out, one on 30 is used; a measure
    without a denominator is never affected."""
    small = mixed_inputs["performance_annual"].with_columns(
        denominator=pl.when(pl.col("org_code") == "T2").then(29.0).otherwise(30.0)
    )
    table = build_indicators(mixed_framework, **{**mixed_inputs, "performance_annual": small})
    sickness = table.filter((pl.col("indicator_id") == "sickness") & (pl.col("survey_year") == 2024))
    assert sickness["org_code"].to_list() == ["T1"]
    no_denominator = small.with_columns(denominator=pl.lit(None, dtype=pl.Float64))
    table = build_indicators(mixed_framework, **{**mixed_inputs, "performance_annual": no_denominator})
    assert table.filter((pl.col("indicator_id") == "sickness") & (pl.col("survey_year") == 2024)).height == 2
