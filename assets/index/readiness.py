"""Published shapes of factor_scores, barrier_scores and readiness_index: point estimates from the Polars path,
90% intervals, the relative profile and the per-draw support rule from the Monte Carlo, and the action columns
(weakest factors and barrier, suggested support type), published only where they survive their uncertainty and
only for ranked trusts.

`readiness_tables(indicators, framework)` is the one call an asset needs; it returns all three tables.
"""

from dataclasses import dataclass

import polars as pl

from assets.factors.profile import add_relative_scores, profile_draws, profile_frame, weakest_of_profile
from assets.factors.scoring import position_in_group, score_barriers, score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import YearDraws, intervals, simulate
from assets.index.support import TYPE_COLUMNS, support_advice, type_frame
from assets.indicators.framework import Framework
from pipeline import dictionary

# the sampling-only run draws from its own stream so the full run's draws do not change
SAMPLING_STREAM = 2
# each table's columns, in published order, from its data dictionary entry
FACTOR_SCORE_COLUMNS = list(dictionary.table("factor_scores").columns)
BARRIER_SCORE_COLUMNS = list(dictionary.table("barrier_scores").columns)
READINESS_INDEX_COLUMNS = list(dictionary.table("readiness_index").columns)
NOT_RANKED = "not ranked: no weakest component"


@dataclass(frozen=True)
class ReadinessTables:
    factor_scores: pl.DataFrame
    barrier_scores: pl.DataFrame
    readiness_index: pl.DataFrame


def contain_point(frame: pl.DataFrame, point: str, low: str, high: str) -> pl.DataFrame:
    """Widen [low, high] to include the point estimate (percentile intervals of skewed draws, e.g. a percentage
    near 0 or 100, can miss it); null bounds where the point is null."""
    return frame.with_columns(
        pl.when(pl.col(point).is_not_null()).then(pl.min_horizontal(low, point)).alias(low),
        pl.when(pl.col(point).is_not_null()).then(pl.max_horizontal(high, point)).alias(high),
    )


def _profiles(
    draws: dict[int, YearDraws], framework: Framework, level: float
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(factor profile, barrier profile, support-type shares) over every survey year of the draws."""
    factors, barriers, types = [], [], []
    for year_draws in draws.values():
        factor_summary = profile_draws(year_draws.factors, level)
        barrier_summary = profile_draws(year_draws.barriers, level)
        factors.append(profile_frame(year_draws, factor_summary, "factors"))
        barriers.append(profile_frame(year_draws, barrier_summary, "barriers"))
        types.append(type_frame(year_draws, barrier_summary.weakest, framework))
    return pl.concat(factors), pl.concat(barriers), pl.concat(types)


def _scored(points: pl.DataFrame, bounds: pl.DataFrame, profile: pl.DataFrame, component: str) -> pl.DataFrame:
    keys = ["org_code", "survey_year", component]
    joined = (
        add_relative_scores(position_in_group(points, component))
        .join(bounds, on=keys, how="left")
        .join(profile, on=keys, how="left")
    )
    return contain_point(
        contain_point(joined, "score", "score_lo", "score_hi"), "relative_score", "relative_lo", "relative_hi"
    )


def weakest_components(factor_scores: pl.DataFrame, barrier_scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Per trust and year, from the relative profile: the two weakest factors and the weakest barrier, each only
    where its p_weakest (p_two_weakest for the second factor) reaches weakest_min_probability, with the reason in
    weakest_factor_status / weakest_barrier_status, and the weakest barrier's position in its group."""
    threshold = framework.settings.weakest_min_probability
    keys = ["org_code", "survey_year"]
    factors = weakest_of_profile(factor_scores, "factor_id", "factor_name", threshold, two=True).select(
        *keys,
        weakest_factor_1="first",
        weakest_factor_2="second",
        weakest_factor_1_name="first_name",
        weakest_factor_2_name="second_name",
        weakest_factor_status="status",
    )
    barriers = (
        weakest_of_profile(barrier_scores, "barrier", "barrier_name", threshold, two=False)
        .select(*keys, weakest_barrier="first", weakest_barrier_status="status")
        .join(
            barrier_scores.select(*keys, weakest_barrier="barrier", weakest_barrier_position="position_in_group"),
            on=[*keys, "weakest_barrier"],
            how="left",
        )
    )
    return factors.join(barriers, on=keys, how="full", coalesce=True)


ACTION_COLUMNS = [
    "weakest_factor_1",
    "weakest_factor_2",
    "weakest_factor_1_name",
    "weakest_factor_2_name",
    "weakest_barrier",
    "weakest_barrier_position",
    "suggested_support_type",
    "support_type_probability",
    *TYPE_COLUMNS,
]


def silence_unranked(readiness: pl.DataFrame) -> pl.DataFrame:
    """Unranked rows carry no action column: no weakest component, no support advice, no type shares."""
    ranked = pl.col("ranked").fill_null(False)
    return readiness.with_columns(
        *(pl.when(ranked).then(pl.col(c)).alias(c) for c in ACTION_COLUMNS),
        weakest_factor_status=pl.when(ranked).then("weakest_factor_status").otherwise(pl.lit(NOT_RANKED)),
        weakest_barrier_status=pl.when(ranked).then("weakest_barrier_status").otherwise(pl.lit(NOT_RANKED)),
    )


def readiness_tables(indicators: pl.DataFrame, framework: Framework) -> ReadinessTables:
    """factor_scores, barrier_scores and readiness_index from the indicators table."""
    settings = framework.settings
    level = settings.interval_level
    draws = simulate(indicators, framework)
    bounds = intervals(draws, level)
    sampling = intervals(simulate(indicators, framework, stream=SAMPLING_STREAM, perturb_weights=False), level)
    factor_profile, barrier_profile, types = _profiles(draws, framework, level)
    factors = _scored(score_factors(indicators, framework), bounds.factors, factor_profile, "factor_id")
    barriers = _scored(score_barriers(indicators, framework), bounds.barriers, barrier_profile, "barrier")
    keys = ["org_code", "survey_year"]
    index = (
        aggregate_index(factors, framework)
        .join(bounds.index, on=keys, how="left")
        .join(
            sampling.index.select(*keys, index_lo_sampling="index_lo", index_hi_sampling="index_hi"),
            on=keys,
            how="left",
        )
    )
    index = contain_point(
        contain_point(
            contain_point(index, "index_score", "index_lo", "index_hi"), "rank_in_group", "rank_lo", "rank_hi"
        ),
        "index_score",
        "index_lo_sampling",
        "index_hi_sampling",
    ).join(types, on=keys, how="left")
    group_means = barriers.with_columns(
        group_mean=pl.col("score").mean().over("survey_year", "benchmarking_group", "barrier")
    )
    advice = support_advice(index, group_means, framework)
    minimum = settings.min_index_coverage
    readiness = (
        index.join(weakest_components(factors, barriers, framework), on=keys, how="left")
        .join(advice, on=keys, how="left")
        .with_columns(
            rank_status=pl.when("ranked")
            .then(pl.lit("ranked"))
            .when(pl.col("index_score").is_null())
            .then(pl.lit("not measured"))
            .otherwise(pl.format("not ranked: coverage {} below {}", pl.col("coverage").round(2), pl.lit(minimum)))
        )
        .pipe(silence_unranked)
        .select(READINESS_INDEX_COLUMNS)
        .sort("survey_year", "benchmarking_group", "rank_in_group", "org_code", nulls_last=True)
    )
    return ReadinessTables(
        factor_scores=factors.select(FACTOR_SCORE_COLUMNS).sort("org_code", "survey_year", "factor_id"),
        barrier_scores=barriers.select(BARRIER_SCORE_COLUMNS).sort("org_code", "survey_year", "barrier"),
        readiness_index=readiness,
    )
