"""Published shapes of factor_scores, barrier_scores and readiness_index: point estimates from the Polars path,
90% intervals from the Monte Carlo, and the action columns (weakest factors and barrier, suggested support type).

`readiness_tables(indicators, framework)` is the one call an asset needs; it returns all three tables.
"""

from dataclasses import dataclass

import polars as pl

from assets.factors.scoring import score_barriers, score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import intervals, simulate
from assets.indicators.framework import Framework

FACTOR_SCORE_COLUMNS = [
    "org_code",
    "survey_year",
    "factor_id",
    "factor_name",
    "score",
    "score_lo",
    "score_hi",
    "coverage",
    "benchmarking_group",
    "n_indicators",
    "status",
    "position_in_group",
]
BARRIER_SCORE_COLUMNS = ["org_code", "survey_year", "barrier", "barrier_name", *FACTOR_SCORE_COLUMNS[4:]]
READINESS_INDEX_COLUMNS = [
    "org_code",
    "survey_year",
    "benchmarking_group",
    "index_score",
    "index_lo",
    "index_hi",
    "rank_in_group",
    "rank_lo",
    "rank_hi",
    "n_in_group",
    "coverage",
    "weakest_factor_1",
    "weakest_factor_2",
    "weakest_barrier",
    "suggested_support_type",
    "ranked",
    "rank_status",
    "n_factors",
    "weakest_factor_1_name",
    "weakest_factor_2_name",
    "weakest_barrier_position",
]


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


def position_in_group(scores: pl.DataFrame, component: str) -> pl.DataFrame:
    """Mid-rank percentile (0-1, higher = better) of each score among measured trusts of the same group and year."""
    keys = ["survey_year", "benchmarking_group", component]
    return scores.with_columns(
        position_in_group=(pl.col("score").rank("average").over(keys) - 0.5) / pl.col("score").count().over(keys)
    )


def weakest_components(factor_scores: pl.DataFrame, barrier_scores: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Per trust and year: the two factors and the barrier furthest below the group (lowest position_in_group;
    ties go to the lower factor id or the barrier listed first), and the support type barriers.csv maps it to."""
    barrier_order = {b: i for i, b in enumerate(framework.barriers["barrier"].to_list())}
    factors = (
        factor_scores.filter(pl.col("score").is_not_null())
        .sort("position_in_group", "factor_id")
        .group_by("org_code", "survey_year", maintain_order=True)
        .agg(weakest=pl.col("factor_id").head(2), weakest_names=pl.col("factor_name").head(2))
        .select(
            "org_code",
            "survey_year",
            weakest_factor_1=pl.col("weakest").list.get(0, null_on_oob=True),
            weakest_factor_2=pl.col("weakest").list.get(1, null_on_oob=True),
            weakest_factor_1_name=pl.col("weakest_names").list.get(0, null_on_oob=True),
            weakest_factor_2_name=pl.col("weakest_names").list.get(1, null_on_oob=True),
        )
    )
    support = framework.barriers.join(framework.support_types, on="support_type").select(
        weakest_barrier="barrier", suggested_support_type="support_name"
    )
    barriers = (
        barrier_scores.filter(pl.col("score").is_not_null())
        .with_columns(order=pl.col("barrier").replace_strict(barrier_order, return_dtype=pl.Int64))
        .sort("position_in_group", "order")
        .group_by("org_code", "survey_year", maintain_order=True)
        .agg(weakest_barrier=pl.col("barrier").first(), weakest_barrier_position=pl.col("position_in_group").first())
        .join(support, on="weakest_barrier", how="left")
    )
    return factors.join(barriers, on=["org_code", "survey_year"], how="full", coalesce=True)


def readiness_tables(indicators: pl.DataFrame, framework: Framework) -> ReadinessTables:
    """factor_scores, barrier_scores and readiness_index from the indicators table."""
    settings = framework.settings
    bounds = intervals(simulate(indicators, framework), settings.interval_level)
    factors = contain_point(
        position_in_group(score_factors(indicators, framework), "factor_id").join(
            bounds.factors, on=["org_code", "survey_year", "factor_id"], how="left"
        ),
        "score",
        "score_lo",
        "score_hi",
    )
    barriers = contain_point(
        position_in_group(score_barriers(indicators, framework), "barrier").join(
            bounds.barriers, on=["org_code", "survey_year", "barrier"], how="left"
        ),
        "score",
        "score_lo",
        "score_hi",
    )
    index = aggregate_index(factors, framework).join(bounds.index, on=["org_code", "survey_year"], how="left")
    index = contain_point(
        contain_point(index, "index_score", "index_lo", "index_hi"), "rank_in_group", "rank_lo", "rank_hi"
    )
    minimum = settings.min_index_coverage
    readiness = (
        index.join(weakest_components(factors, barriers, framework), on=["org_code", "survey_year"], how="left")
        .with_columns(
            rank_status=pl.when("ranked")
            .then(pl.lit("ranked"))
            .when(pl.col("index_score").is_null())
            .then(pl.lit("not measured"))
            .otherwise(pl.format("not ranked: coverage {} below {}", pl.col("coverage").round(2), pl.lit(minimum)))
        )
        .select(READINESS_INDEX_COLUMNS)
        .sort("survey_year", "benchmarking_group", "rank_in_group", "org_code", nulls_last=True)
    )
    return ReadinessTables(
        factor_scores=factors.select(FACTOR_SCORE_COLUMNS).sort("org_code", "survey_year", "factor_id"),
        barrier_scores=barriers.select(BARRIER_SCORE_COLUMNS).sort("org_code", "survey_year", "barrier"),
        readiness_index=readiness,
    )
