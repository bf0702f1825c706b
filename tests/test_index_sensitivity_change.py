"""Rank sensitivity to the method choices, and year-on-year change against sampling error (synthetic frames)."""

import dataclasses

import polars as pl
import pytest

from assets.index.change import year_on_year_change
from assets.index.sensitivity import rank_sensitivity
from assets.indicators.build import build_indicators, normalise
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


def test_rank_shifts_under_alternative_normalisation_and_aggregation() -> None:
    framework = framework_with(
        [survey_indicator("a", "q9a", 1), survey_indicator("c", "q9c", 2)], min_peers=3, min_index_coverage=0.0
    )
    # T1 is far ahead on a (an outlier) and last on c
    values = {"T1": (100, 0), "T2": (0, 5), "T3": (1, 6), "T4": (2, 7)}
    indicators = normalise(
        indicator_rows([(t, 2024, i, v) for t, pair in values.items() for i, v in zip("ac", pair, strict=True)]),
        "zscore",
        3,
    )
    rows = {(r["org_code"], r["scenario"]): r for r in rank_sensitivity(indicators, framework).iter_rows(named=True)}
    # default (z-score, arithmetic): a -> (1.7318, -0.6006, -0.5773, -0.5539), c -> (-1.6713, 0.1857, 0.5571, 0.9285);
    # index = mean: T1 0.0303, T2 -0.2075, T3 -0.0101, T4 0.1873 -> ranks T4 1, T1 2, T3 3, T2 4
    assert [rows[(t, "zscore+geometric")]["default_rank"] for t in ("T4", "T1", "T3", "T2")] == [1, 2, 3, 4]
    # percentile: a -> (.875, .125, .375, .625), c -> (.125, .375, .625, .875); index T1 .5, T2 .25, T3 .5, T4 .75:
    # T1 and T3 tie at rank 2, so T3 moves up one
    assert rows[("T3", "percentile+arithmetic")]["scenario_rank"] == 2
    assert rows[("T3", "percentile+arithmetic")]["rank_shift"] == -1
    # geometric mean of Phi(z): T1 sqrt(0.9583 x 0.0473) = 0.213 is now last; the outlier no longer compensates
    assert rows[("T1", "zscore+geometric")]["scenario_rank"] == 4
    assert rows[("T1", "zscore+geometric")]["abs_rank_shift"] == 2
    # T1 shifts 0 under min-max (both) and percentile+arithmetic, 1 and 2 under the geometric scenarios: median 0
    assert rows[("T1", "zscore+geometric")]["trust_median_abs_rank_shift"] == 0.0
    # under z-score + geometric the four trusts shift 0, 2, 1, 1: median 1
    assert rows[("T4", "zscore+geometric")]["scenario_median_abs_rank_shift"] == 1.0
    # leaving a out: the index is c alone (-1.6713, 0.1857, 0.5571, 0.9285), so T1 falls from 2 to 4
    assert (rows[("T1", "leave_out:a")]["scenario_rank"], rows[("T1", "leave_out:a")]["rank_shift"]) == (4, 2)
    assert rows[("T1", "leave_out:a")]["sensitivity_kind"] == "leave_one_out"
    # the variance-based rows: one per input, with the published rank and a first-order index
    sobol = {s: rows[("T1", f"sobol:{s}")] for s in ("weights", "normalisation", "aggregation", "sampling")}
    assert all(r["default_rank"] == 2 and r["scenario_rank"] is None for r in sobol.values())
    assert all(r["first_order_index"] is not None for r in sobol.values())
    assert {r[1] for r in rows if rows[r]["sensitivity_kind"] == "method"} == {
        "zscore+geometric",
        "percentile+arithmetic",
        "percentile+geometric",
        "minmax+arithmetic",
        "minmax+geometric",
    }


def test_rank_shifts_under_other_factor_weights() -> None:
    framework = framework_with(
        [survey_indicator("a", "q9a", 1), survey_indicator("c", "q9c", 2)], min_peers=3, min_index_coverage=0.0
    )
    scenario = pl.DataFrame({"scenario": ["c_heavy"], "factor_id": [2], "index_weight": [3.0]})
    framework = dataclasses.replace(framework, factor_weight_scenarios=scenario)
    values = {"T1": (100, 0), "T2": (0, 5), "T3": (1, 6), "T4": (2, 7)}
    indicators = normalise(
        indicator_rows([(t, 2024, i, v) for t, pair in values.items() for i, v in zip("ac", pair, strict=True)]),
        "zscore",
        3,
    )
    rows = {
        r["org_code"]: r
        for r in rank_sensitivity(indicators, framework, sobol=False).iter_rows(named=True)
        if r["scenario"] == "factor_weights:c_heavy"
    }
    # the z-scores of the first test; with factor 2 (c) at weight 3 the index is (a + 3c) / 4: T1 -0.8205,
    # T2 -0.0109, T3 0.2735, T4 0.5579 -> T4 1, T3 2, T2 3, T1 4 (default T4 1, T1 2, T3 3, T2 4)
    assert {t: rows[t]["scenario_rank"] for t in rows} == {"T4": 1, "T3": 2, "T2": 3, "T1": 4}
    assert {t: rows[t]["rank_shift"] for t in rows} == {"T4": 0, "T3": -1, "T2": -1, "T1": 2}
    assert rows["T1"]["sensitivity_kind"] == "factor_weights"
    assert rows["T1"]["scenario_median_abs_rank_shift"] == 1.0  # shifts 0, 1, 1, 2


@pytest.fixture(scope="module")
def two_years():
    framework = framework_with(
        [survey_indicator("a", "q9a", 1), survey_indicator("c", "q9c", 2)],
        min_peers=3,
        min_index_coverage=0.0,
        mc_draws=500,
        min_common_indicators=1,  # one common question here; the minimum of 3 is tested on real data
    )
    orgs = organisations(
        [(t, year, ACUTE) for t in ("T1", "T2", "T3") for year in (2023, 2024)]
        + [("T4", 2023, ACUTE), ("T4", 2024, AMBULANCE), ("A1", 2024, AMBULANCE), ("A2", 2024, AMBULANCE)]
    )
    # q9a favourable %: T1 and T3 swap places, T2 stays at the group mean; q9c is asked in 2024 only
    rows = [
        ("T1", 2023, "q9a", None, 40.0, None, 2000),
        ("T2", 2023, "q9a", None, 50.0, None, 2000),
        ("T3", 2023, "q9a", None, 60.0, None, 2000),
        ("T4", 2023, "q9a", None, 50.0, None, 2000),
        ("T1", 2024, "q9a", None, 60.0, None, 2000),
        ("T2", 2024, "q9a", None, 50.0, None, 2000),
        ("T3", 2024, "q9a", None, 40.0, None, 2000),
        ("T4", 2024, "q9a", None, 45.0, None, 2000),
        ("A1", 2024, "q9a", None, 55.0, None, 2000),
        ("A2", 2024, "q9a", None, 65.0, None, 2000),
    ] + [(t, 2024, "q9c", None, 70.0 + i, None, 2000) for i, t in enumerate(("T1", "T2", "T3", "T4", "A1", "A2"))]
    indicators = build_indicators(
        framework,
        staff_survey_items=survey_items(rows),
        people_promise_scores=people_promise(),
        performance_annual=performance(),
        survey_organisations=orgs,
    )
    return year_on_year_change(indicators, framework)


def test_change_is_measured_on_the_common_indicators_relative_to_peers(two_years: pl.DataFrame) -> None:
    change = {(r["org_code"], r["component"]): r for r in two_years.iter_rows(named=True)}
    # only q9a is in both years, so only factor 1 and the index (= factor 1) have a change; T4 changed group
    assert set(change) == {(t, c) for t in ("T1", "T2", "T3") for c in ("factor_1", "index")}
    t1 = change[("T1", "factor_1")]
    # 2023: 40, 50, 60, 50 -> mean 50, SD sqrt(200 / 4) = 7.0711 -> T1 -1.4142; 2024: 60, 50, 40 -> T1 +1.2247
    assert t1["previous_score"] == pytest.approx(-1.414214, abs=1e-6)
    assert t1["score"] == pytest.approx(1.224745, abs=1e-6)
    assert t1["change"] == pytest.approx(2.638959, abs=1e-6)
    assert (t1["previous_year"], t1["n_common_indicators"]) == (2023, 1)
    assert change[("T1", "index")]["change"] == pytest.approx(t1["change"])


def test_change_beyond_sampling_error_is_flagged(two_years: pl.DataFrame) -> None:
    change = {(r["org_code"], r["component"]): r for r in two_years.iter_rows(named=True)}
    # a swing of 20 points on bases of 2,000 (sampling SD about 1.1 points) is far beyond sampling error;
    # T2 stays at the group mean, so its change of 0 is within it
    assert change[("T1", "factor_1")]["exceeds_sampling_error"] is True
    assert change[("T3", "factor_1")]["exceeds_sampling_error"] is True
    t2 = change[("T2", "factor_1")]
    assert t2["change"] == pytest.approx(0.0, abs=1e-12)
    assert t2["change_lo"] < 0 < t2["change_hi"] and t2["exceeds_sampling_error"] is False
    for row in change.values():
        assert row["change_lo"] <= row["change"] <= row["change_hi"]


def test_sobol_indices_are_exactly_zero_for_inputs_that_cannot_move_a_rank() -> None:
    """With one indicator the index is that indicator's score whatever the weights, and the geometric mean of one
    factor is a monotone transform of it: weights and aggregation cannot move a rank, so f(A_B^i) = f(A) in every
    run and their first-order indices are exactly 0; sampling error does move ranks."""
    from assets.index.montecarlo import year_arrays
    from assets.index.sobol import first_order

    framework = framework_with([survey_indicator("a", "q9a", 1)], min_peers=3, min_index_coverage=0.0)
    values = {"T1": 60.0, "T2": 61.0, "T3": 62.0, "T4": 63.0, "T5": 64.0}
    rows = survey_items([(t, 2024, "q9a", None, v, None, 150) for t, v in values.items()])
    indicators = build_indicators(
        framework,
        staff_survey_items=rows,
        people_promise_scores=people_promise(),
        performance_annual=performance(),
        survey_organisations=organisations([(t, 2024, ACUTE) for t in values]),
    )
    indices = first_order(year_arrays(indicators, framework, 2024), framework, 64)
    assert (indices["weights"] == 0).all() and (indices["aggregation"] == 0).all()
    assert (indices["sampling"] > 0.2).all()


def test_a_stricter_performance_denominator_is_a_missing_data_scenario() -> None:
    """min_performance_denominator's alternatives re-rank with the rates resting on fewer patients left out."""
    framework = framework_with(
        [
            survey_indicator("a", "q9a", 1),
            measure_indicator("p", "performance_annual", "ae_4hr_pct_type1", 2),
        ],
        min_peers=3,
        min_index_coverage=0.0,
        min_performance_denominator_alternatives=("100",),
    )
    survey = indicator_rows([(t, 2024, "a", v) for t, v in (("T1", 0), ("T2", 1), ("T3", 2), ("T4", 3))])
    # T1's rate (SYNTHETIC) rests on 50 attendances, the others' on 400
    rates = indicator_rows([(t, 2024, "p", v) for t, v in (("T1", 100), ("T2", 0), ("T3", 1), ("T4", 2))]).with_columns(
        source=pl.lit("performance_annual"),
        value_type=pl.lit("administrative"),
        base=pl.when(pl.col("org_code") == "T1").then(50.0).otherwise(400.0),
    )
    indicators = normalise(pl.concat([survey, rates]), "zscore", 3)
    rows = {(r["org_code"], r["scenario"]): r for r in rank_sensitivity(indicators, framework).iter_rows(named=True)}
    scenario = rows[("T1", "min_performance_denominator=100")]
    assert scenario["sensitivity_kind"] == "missing_data"
    # default: a -> z (-1.16, -0.39, 0.39, 1.16); p -> T1 far ahead (z 1.5), the rest about -0.5:
    # index T1 0.17, T2 -0.45, T3 -0.06, T4 0.33, so T1 ranks 2; without T1's rate it rests on a alone (-1.16): last
    assert (scenario["default_rank"], scenario["scenario_rank"], scenario["rank_shift"]) == (2, 4, 2)
    # the other trusts keep their rates (base 400 >= 100), renormalised among themselves: T4 first, T3, T2
    assert [rows[(t, "min_performance_denominator=100")]["scenario_rank"] for t in ("T4", "T3", "T2")] == [1, 2, 3]
