"""Factor and barrier scores, the index, ranks and the action columns on synthetic hand-made frames."""

import polars as pl
import pytest

from assets.factors.scoring import position_in_group, score_barriers, score_factors
from assets.index.aggregate import aggregate_index, normal_cdf
from assets.index.readiness import contain_point, weakest_components
from tests.helpers.index_frames import ACUTE, framework_with, survey_indicator

SMALL = [
    survey_indicator("a", "q9a", 1, barrier="motivation", weight=1),
    survey_indicator("b", "q9b", 1, weight=3),
    survey_indicator("c", "q9c", 2, barrier="headspace", weight=1),
]


def _normalised(rows: list[tuple[str, str, float | None]]) -> pl.DataFrame:
    """An indicators table with given normalised scores (org_code, indicator_id, norm_score), survey year 2024."""
    return pl.DataFrame(rows, schema=["org_code", "indicator_id", "norm_score"], orient="row").with_columns(
        survey_year=pl.lit(2024, dtype=pl.Int64), benchmarking_group=pl.lit(ACUTE)
    )


def _factor_frame(scores: dict[str, list[float | None]]) -> pl.DataFrame:
    """factor_scores for seven factors; coverage 1 where scored, 0 where not."""
    return pl.DataFrame(
        [
            (org, 2024, ACUTE, factor, score, 0.0 if score is None else 1.0)
            for org, values in scores.items()
            for factor, score in enumerate(values, start=1)
        ],
        schema=["org_code", "survey_year", "benchmarking_group", "factor_id", "score", "coverage"],
        orient="row",
    )


def test_factor_score_is_the_weighted_mean_with_coverage_and_not_measured() -> None:
    framework = framework_with(SMALL, min_factor_coverage=0.0)
    indicators = _normalised([("T1", "a", 1.0), ("T1", "b", -1.0), ("T1", "c", 2.0), ("T2", "a", 0.5)])
    factors = {(r["org_code"], r["factor_id"]): r for r in score_factors(indicators, framework).iter_rows(named=True)}
    # T1 factor 1: (1 x 1.0 + 3 x -1.0) / (1 + 3) = -0.5, all weight present
    assert (factors[("T1", 1)]["score"], factors[("T1", 1)]["coverage"], factors[("T1", 1)]["n_indicators"]) == (
        -0.5,
        1.0,
        2,
    )
    # T2 factor 1: only a (weight 1 of 4): score 0.5, coverage 0.25
    assert (factors[("T2", 1)]["score"], factors[("T2", 1)]["coverage"]) == (0.5, 0.25)
    assert factors[("T1", 2)]["score"] == 2.0
    # no data: null and "not measured", never zero
    assert factors[("T2", 2)]["score"] is None
    assert (factors[("T2", 2)]["status"], factors[("T2", 2)]["coverage"]) == ("not measured", 0.0)
    assert factors[("T1", 7)]["status"] == "not measured" and factors[("T1", 7)]["score"] is None
    assert len(factors) == 2 * 7
    # with the minimum coverage at 0.3 the 0.25-covered factor is withheld, not imputed, and says why
    strict = score_factors(indicators, framework.with_settings(min_factor_coverage=0.3))
    below = strict.filter((pl.col("org_code") == "T2") & (pl.col("factor_id") == 1)).row(0, named=True)
    assert (below["score"], below["coverage"], below["status"]) == (None, 0.25, "coverage below minimum")
    at_minimum = score_factors(indicators, framework.with_settings(min_factor_coverage=0.25))
    assert at_minimum.filter((pl.col("org_code") == "T2") & (pl.col("factor_id") == 1))["score"].item() == 0.5


def test_barrier_scores_use_the_barrier_column() -> None:
    framework = framework_with(SMALL)
    indicators = _normalised([("T1", "a", 1.0), ("T1", "b", -1.0), ("T1", "c", 2.0)])
    barriers = {r["barrier"]: r for r in score_barriers(indicators, framework).iter_rows(named=True)}
    # b has no barrier, so motivation is a alone and headspace is c alone
    assert (barriers["motivation"]["score"], barriers["headspace"]["score"]) == (1.0, 2.0)
    assert barriers["recognition"]["status"] == "not measured"
    assert barriers["motivation"]["barrier_name"] == "Motivation to change"


def test_arithmetic_index_rank_ties_and_minimum_coverage() -> None:
    framework = framework_with(SMALL)
    # the real factors.csv weights factors 5 and 6 at 2.5 and the others at 1 (total 10)
    assert framework.factors["index_weight"].to_list() == [1, 1, 1, 1, 2.5, 2.5, 1]
    frame = _factor_frame(
        {
            "T1": [1, 1, 1, 1, 1, 1, -4],  # (4 x 1 + 2 x 2.5 x 1 - 4) / 10 = 0.5
            "T2": [0.5] * 7,  # 0.5: tied with T1
            "T3": [-1] * 7,
            "T4": [2, None, None, None, None, None, None],  # coverage 1/10, below 0.6
        }
    )
    index = {r["org_code"]: r for r in aggregate_index(frame, framework).iter_rows(named=True)}
    assert index["T1"]["index_score"] == 0.5 and index["T2"]["index_score"] == 0.5
    # ties share the better rank ("min"): 1, 1, 3
    assert [index[t]["rank_in_group"] for t in ("T1", "T2", "T3")] == [1, 1, 3]
    assert index["T4"]["index_score"] == 2.0 and index["T4"]["coverage"] == pytest.approx(1 / 10)
    assert (index["T4"]["ranked"], index["T4"]["rank_in_group"]) == (False, None)
    assert {r["n_in_group"] for r in index.values()} == {3}
    assert index["T4"]["n_factors"] == 1


def test_geometric_index_is_less_compensatory_and_survives_zeros() -> None:
    framework = framework_with(SMALL)
    frame = _factor_frame({"T1": [1, 1, 1, 1, 1, 1, -4], "T2": [0.5] * 7, "T3": [-1] * 7})
    index = {r["org_code"]: r for r in aggregate_index(frame, framework, aggregation="geometric").iter_rows(named=True)}
    # z -> normal CDF: Phi(1) = 0.841345, Phi(-4) = 0.000032 floored to 0.01; weights 1 x 4, 2.5 x 2, 1 (total 10):
    # T1 = exp((9 ln 0.841345 + ln 0.01) / 10) = 0.540103: its one weak factor now costs it first place
    assert index["T1"]["index_score"] == pytest.approx(0.540103, abs=1e-6)
    assert index["T2"]["index_score"] == pytest.approx(0.691462, abs=1e-6)  # Phi(0.5)
    assert index["T3"]["index_score"] == pytest.approx(0.158655, abs=1e-6)  # Phi(-1)
    assert [index[t]["rank_in_group"] for t in ("T2", "T1", "T3")] == [1, 2, 3]
    # min-max scores can be exactly 0: floored at 0.01, so the index is 0.01 ** (1/10) = 0.630957, not 0
    zeros = _factor_frame({"T1": [0, 1, 1, 1, 1, 1, 1], "T2": [0.5] * 7})
    geometric = aggregate_index(zeros, framework, aggregation="geometric", normalisation="minmax")
    assert geometric.filter(pl.col("org_code") == "T1")["index_score"].item() == pytest.approx(0.630957, abs=1e-6)


def test_normal_cdf_matches_the_error_function() -> None:
    import math

    import numpy as np

    z = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    exact = [0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]
    assert normal_cdf(z) == pytest.approx(exact, abs=1e-15)


def test_weakest_factors_and_barrier_come_from_the_profile_probabilities() -> None:
    framework = framework_with(SMALL)  # weakest_min_probability 0.5
    factors = pl.DataFrame(
        [
            ("T1", 2024, 1, "f1", 0.9, 0.05, 0.2),
            ("T1", 2024, 2, "f2", 0.2, 0.55, 0.9),  # lowest in 55% of draws: weakest
            ("T1", 2024, 3, "f3", 0.2, 0.4, 0.7),  # among the two lowest in 70%: second
            ("T1", 2024, 4, "f4", 0.4, 0.0, 0.2),
            ("T1", 2024, 5, "f5", None, None, None),  # not scored: never "weakest"
            ("T2", 2024, 1, "f1", 0.1, 0.45, 0.8),  # no factor reaches 0.5: none named
            ("T2", 2024, 2, "f2", 0.1, 0.40, 0.7),
            ("T2", 2024, 3, "f3", 0.1, 0.15, 0.5),
        ],
        schema=[
            "org_code",
            "survey_year",
            "factor_id",
            "factor_name",
            "position_in_group",
            "p_weakest",
            "p_two_weakest",
        ],
        orient="row",
    )
    barriers = pl.DataFrame(
        [
            ("T1", 2024, "recognition", "r", 0.7, 0.2),
            ("T1", 2024, "headspace", "h", 0.1, 0.8),
            ("T2", 2024, "motivation", "m", 0.5, 0.5),  # exactly the threshold: named
            ("T2", 2024, "capability", "c", 0.4, 0.5),  # tie: the first in p order, then barrier name
        ],
        schema=["org_code", "survey_year", "barrier", "barrier_name", "position_in_group", "p_weakest"],
        orient="row",
    )
    rows = {r["org_code"]: r for r in weakest_components(factors, barriers, framework).iter_rows(named=True)}
    assert (rows["T1"]["weakest_factor_1"], rows["T1"]["weakest_factor_2"]) == (2, 3)
    assert rows["T1"]["weakest_factor_status"] == "clear"
    assert (rows["T1"]["weakest_barrier"], rows["T1"]["weakest_barrier_position"]) == ("headspace", 0.1)
    assert (rows["T2"]["weakest_factor_1"], rows["T2"]["weakest_factor_2"]) == (None, None)
    assert rows["T2"]["weakest_factor_status"].startswith("no component is the lowest")
    assert rows["T2"]["weakest_barrier"] == "capability"


def test_position_in_group_is_a_mid_rank_percentile_among_measured_trusts() -> None:
    scores = pl.DataFrame(
        {
            "org_code": ["T1", "T2", "T3", "T4"],
            "survey_year": 2024,
            "benchmarking_group": ACUTE,
            "factor_id": 1,
            "score": [1.0, 2.0, 3.0, None],
        }
    )
    positions = position_in_group(scores, "factor_id")["position_in_group"].to_list()
    assert positions[:3] == pytest.approx([0.5 / 3, 1.5 / 3, 2.5 / 3]) and positions[3] is None


def test_intervals_are_widened_to_contain_the_point() -> None:
    frame = pl.DataFrame({"score": [1.0, 1.0, None], "score_lo": [1.2, 0.5, 0.1], "score_hi": [1.5, 0.8, 0.2]})
    widened = contain_point(frame, "score", "score_lo", "score_hi")
    assert widened.rows() == [(1.0, 1.0, 1.5), (1.0, 0.5, 1.0), (None, None, None)]
