"""Monte Carlo uncertainty: agrees with the point estimates when nothing is perturbed, perturbs by the stated
sampling error, is reproducible with a fixed seed, and yields ordered intervals (synthetic hand-made frames)."""

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.factors.scoring import score_barriers, score_factors
from assets.index import montecarlo, sobol
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import draw_values, simulate, year_arrays
from assets.index.readiness import readiness_tables
from assets.indicators.build import normalise
from tests.helpers.index_frames import AMBULANCE, framework_with, indicator_rows, survey_indicator

INDICATORS = [
    survey_indicator("a", "q9a", 1, barrier="motivation", weight=1),
    survey_indicator("b", "q9b", 1, barrier="capability", weight=3),
    survey_indicator("c", "q9c", 2, barrier="headspace", weight=1),
    survey_indicator("d", "q9d", 3, weight=2),
]
# synthetic 0-10 scores: five acute trusts (one missing d) and five ambulance trusts
ACUTE_VALUES = {
    "T1": (6.1, 5.2, 7.0, 6.6),
    "T2": (5.5, 6.0, 6.1, 5.9),
    "T3": (7.2, 6.8, 5.0, None),
    "T4": (4.9, 5.1, 6.4, 6.2),
    "T5": (6.6, 5.9, 6.9, 7.1),
}
AMBULANCE_VALUES = {f"A{i}": (5.0 + i / 7, 4.0 + i / 5, 6.5 - i / 6, 5.5 + (i % 3) / 4) for i in range(1, 6)}


def _indicators(framework) -> pl.DataFrame:
    def rows(values: dict) -> list[tuple]:
        return [
            (org, 2024, indicator, value)
            for org, scores in values.items()
            for indicator, value in zip("abcd", scores, strict=True)
            if value is not None
        ]

    frame = pl.concat([indicator_rows(rows(ACUTE_VALUES)), indicator_rows(rows(AMBULANCE_VALUES), group=AMBULANCE)])
    return normalise(frame, framework.settings.normalisation, framework.settings.min_peers)


@pytest.fixture(scope="module")
def framework():
    # with factors 4-7 unmeasured the coverage is at most 3/7, so the minimum is lowered for these frames
    return framework_with(INDICATORS, min_peers=3, min_index_coverage=0.3, mc_draws=400)


def test_without_perturbation_every_draw_equals_the_point_estimate(framework) -> None:
    indicators = _indicators(framework)
    (draws,) = simulate(indicators, framework, perturb_values=False, perturb_weights=False).values()
    a = draws.arrays
    factors = score_factors(indicators, framework)
    barriers = score_barriers(indicators, framework)
    index = aggregate_index(factors, framework)
    position = {org: t for t, org in enumerate(a.org_codes)}
    for row in factors.iter_rows(named=True):
        column = draws.factors[:, position[row["org_code"]], a.factor_ids.index(row["factor_id"])]
        if row["score"] is None:
            assert np.isnan(column).all()
        else:
            assert column == pytest.approx(np.full(column.size, row["score"]), abs=1e-12)
    for row in barriers.filter(pl.col("score").is_not_null()).iter_rows(named=True):
        column = draws.barriers[:, position[row["org_code"]], a.barriers.index(row["barrier"])]
        assert column == pytest.approx(np.full(column.size, row["score"]), abs=1e-12)
    for row in index.iter_rows(named=True):
        t = position[row["org_code"]]
        assert draws.index[:, t] == pytest.approx(np.full(draws.index.shape[0], row["index_score"]), abs=1e-12)
        if row["ranked"]:
            assert (draws.rank[:, t] == row["rank_in_group"]).all()
        else:
            assert np.isnan(draws.rank[:, t]).all()
    # the synthetic ambulance rows tie in pairs (A2 = A5, A1 = A4): both paths give tied trusts the better rank
    assert index.filter(pl.col("org_code").is_in(["A2", "A5"]))["rank_in_group"].to_list() == [1, 1]
    assert index.filter(pl.col("org_code").is_in(["A1", "A4"]))["rank_in_group"].to_list() == [3, 3]


def test_weights_alone_move_only_factors_with_several_indicators(framework) -> None:
    indicators = _indicators(framework)
    (draws,) = simulate(indicators, framework, perturb_values=False).values()
    # factor 2 has one indicator, so its weight cancels; factor 1 mixes a and b with Dirichlet weights
    assert np.ptp(draws.factors[:, 0, 1]) == pytest.approx(0.0, abs=1e-12)
    assert np.ptp(draws.factors[:, 0, 0]) > 0.01


def test_values_are_perturbed_by_their_sampling_error(framework) -> None:
    indicators = pl.DataFrame(
        {
            "org_code": ["T1", "T1", "T1"],
            "survey_year": 2024,
            "indicator_id": ["a", "b", "d"],
            "raw_value": [30.0, 6.0, 80.0],
            "base": [400.0, 100.0, 5000.0],
            "norm_score": 0.0,
            "value_type": ["pct_favourable", "score_0_10", "administrative"],
            "orientation": 1,
            "benchmarking_group": AMBULANCE,
        }
    )
    a = year_arrays(indicators, framework, 2024)
    # the draws hold the indicators that take part in them: c has no value for any trust, so it is left out
    column = {indicator: k for k, indicator in enumerate(np.array(framework.indicators["indicator_id"])[a.used])}
    assert list(column) == ["a", "b", "d"]
    draws = draw_values(a, np.random.default_rng(7), 20_000, design_effect=1.0)
    percent, score, fixed = draws[:, 0, column["a"]], draws[:, 0, column["b"]], draws[:, 0, column["d"]]
    # binomial: 100 x sqrt(0.3 x 0.7 / 400) = 2.2913 percentage points
    assert percent.mean() == pytest.approx(30.0, abs=0.1)
    assert percent.std() == pytest.approx(2.2913, rel=0.03)
    # 0-10 score: sqrt(0.38 x 6 x (10 - 6) / 100) = 0.30199 (five-point variance_ratio 0.38)
    assert score.mean() == pytest.approx(6.0, abs=0.01)
    assert score.std() == pytest.approx(0.30199, rel=0.03)
    # administrative census values are not perturbed; doubling the design effect halves n
    assert (fixed == 80.0).all()
    wider = draw_values(a, np.random.default_rng(7), 20_000, design_effect=2.0)[:, 0, 0]
    assert wider.std() == pytest.approx(2.2913 * np.sqrt(2), rel=0.03)


def test_a_fixed_seed_gives_identical_tables_and_another_seed_does_not(framework) -> None:
    indicators = _indicators(framework)
    first = readiness_tables(indicators, framework)
    again = readiness_tables(indicators, framework)
    other = readiness_tables(indicators, framework.with_settings(seed=7))
    assert first.readiness_index.equals(again.readiness_index)
    assert first.factor_scores.equals(again.factor_scores)
    assert first.barrier_scores.equals(again.barrier_scores)
    assert not first.factor_scores.equals(other.factor_scores)


@pytest.mark.parametrize("threads", [1, 3])
def test_the_scoring_threads_change_no_draw(framework, monkeypatch, threads: int) -> None:
    """400 draws are 40 blocks on the pool: every draw, and every Sobol index, is the same on one or three threads
    as on the default pool (one thread per usable core)."""
    indicators = _indicators(framework)
    (pooled,) = simulate(indicators, framework).values()
    pooled_sobol = sobol.first_order(pooled.arrays, framework, 64)
    monkeypatch.setattr(montecarlo, "SCORING_THREADS", threads)
    monkeypatch.setattr(sobol, "SCORING_THREADS", threads)
    (alone,) = simulate(indicators, framework).values()
    for name in ("factors", "barriers", "index", "rank"):
        np.testing.assert_array_equal(getattr(alone, name), getattr(pooled, name), strict=True)
    assert pooled.index.shape == (400, 10)
    for name, indices in sobol.first_order(alone.arrays, framework, 64).items():
        np.testing.assert_array_equal(indices, pooled_sobol[name], strict=True)


def test_every_interval_contains_its_point_estimate(framework) -> None:
    tables = readiness_tables(indicators := _indicators(framework), framework)
    for frame, point, low, high in (
        (tables.factor_scores, "score", "score_lo", "score_hi"),
        (tables.barrier_scores, "score", "score_lo", "score_hi"),
        (tables.readiness_index, "index_score", "index_lo", "index_hi"),
        (tables.readiness_index, "rank_in_group", "rank_lo", "rank_hi"),
    ):
        scored = frame.filter(pl.col(point).is_not_null())
        assert scored.height > 0
        assert scored.filter((pl.col(low) <= pl.col(point)) & (pl.col(point) <= pl.col(high))).height == scored.height
        assert frame.filter(pl.col(point).is_null())[low].null_count() == frame.filter(pl.col(point).is_null()).height
    ranked = tables.readiness_index.filter("ranked")
    # T3 lacks d, the only indicator of factor 3: coverage (1 + 1 + 0) / 10 = 0.2 (factors 5 and 6 weigh 2.5 in the
    # total) is below 0.3, so it is listed unranked
    assert sorted(ranked["org_code"]) == sorted(set(indicators["org_code"]) - {"T3"})
    t3 = tables.readiness_index.filter(pl.col("org_code") == "T3").row(0, named=True)
    assert (t3["rank_in_group"], t3["rank_lo"], t3["rank_hi"], t3["rank_status"]) == (
        None,
        None,
        None,
        "not ranked: coverage 0.2 below 0.3",
    )
    assert t3["index_lo"] <= t3["index_score"] <= t3["index_hi"]
    assert (ranked["rank_lo"] >= 1).all() and (ranked["rank_hi"] <= ranked["n_in_group"]).all()
    # sampling error and weights leave some rank uncertainty among five close trusts
    assert (ranked["rank_hi"] - ranked["rank_lo"]).max() >= 1


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.lists(st.floats(0.0, 10.0, allow_nan=False), min_size=4, max_size=4), min_size=3, max_size=7),
    trust=st.integers(0, 6),
    improvement=st.floats(0.01, 3.0),
    normalisation=st.sampled_from(["zscore", "percentile", "minmax"]),
    aggregation=st.sampled_from(["arithmetic", "geometric"]),
)
def test_a_uniform_improvement_never_lowers_a_trusts_index(
    framework, values: list[list[float]], trust: int, improvement: float, normalisation: str, aggregation: str
) -> None:
    """Adding the same amount to every indicator of one trust (in its better direction) cannot lower its index,
    whichever normalisation and aggregation is chosen, whatever its peers score."""
    trust %= len(values)
    target = f"T{trust}"

    def index_of(rows: list[list[float]]) -> float:
        frame = indicator_rows(
            [(f"T{t}", 2024, i, v) for t, row in enumerate(rows) for i, v in zip("abcd", row, strict=True)]
        )
        factors = score_factors(normalise(frame, normalisation, 3), framework)
        index = aggregate_index(factors, framework, aggregation=aggregation, normalisation=normalisation)
        return index.filter(pl.col("org_code") == target)["index_score"].item()

    improved = [[v + improvement for v in row] if t == trust else row for t, row in enumerate(values)]
    assert index_of(improved) >= index_of(values) - 1e-9
