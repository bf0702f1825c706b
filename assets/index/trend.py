"""readiness_trend: the index and factors over every survey year, each year scored on the same indicators.

The published index of a year uses whatever that year measured (about 12 indicators in 2021-2023, 55 in 2024), so
its yearly values are not comparable. The trend rescored every year on the indicators that have a normalised score
in every year of the table (the like-for-like set), with 90% Monte Carlo intervals (sampling error and weights) from
their own stream. Scores stay relative to the benchmarking group of that year. A factor without any indicator in
the common set has no trend row; `indicator_set` names the set so a reader can see what the line rests on.
"""

import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import intervals, simulate
from assets.index.readiness import contain_point
from assets.indicators.framework import Framework

TREND_STREAM = 3
TREND_SCHEMA = {
    "org_code": pl.String,
    "survey_year": pl.Int64,
    "component": pl.String,
    "score": pl.Float64,
    "score_lo": pl.Float64,
    "score_hi": pl.Float64,
    "n_indicators": pl.Int64,
    "indicator_set": pl.String,
}


def common_indicators(indicators: pl.DataFrame) -> list[str]:
    """Indicators with a normalised score in every survey year of the table, sorted."""
    years = indicators["survey_year"].n_unique()
    scored = indicators.filter(pl.col("norm_score").is_not_null())
    every = scored.group_by("indicator_id").agg(pl.col("survey_year").n_unique()).filter(pl.col("survey_year") == years)
    return sorted(every["indicator_id"].to_list())


def readiness_trend(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    common = common_indicators(indicators)
    if not common or indicators["survey_year"].n_unique() < 2:
        return pl.DataFrame(schema=TREND_SCHEMA)
    years = sorted(indicators["survey_year"].unique().to_list())
    label = f"common to {years[0]}-{years[-1]} ({len(common)}): {', '.join(common)}"
    subset = framework.with_indicators(framework.indicators.filter(pl.col("indicator_id").is_in(common)))
    rows = indicators.filter(pl.col("indicator_id").is_in(common))
    factors = score_factors(rows, subset)
    index = aggregate_index(factors, subset)
    bounds = intervals(simulate(rows, subset, stream=TREND_STREAM), framework.settings.interval_level)
    keys = ["org_code", "survey_year"]
    factor_rows = contain_point(
        factors.join(bounds.factors, on=[*keys, "factor_id"], how="left"), "score", "score_lo", "score_hi"
    ).select(
        *keys, pl.format("factor_{}", "factor_id").alias("component"), "score", "score_lo", "score_hi", "n_indicators"
    )
    index_rows = contain_point(
        index.join(bounds.index, on=keys, how="left"), "index_score", "index_lo", "index_hi"
    ).join(
        factors.group_by(keys).agg(n_indicators=pl.col("n_indicators").filter(pl.col("score").is_not_null()).sum()),
        on=keys,
    )
    index_rows = index_rows.select(
        *keys,
        component=pl.lit("index"),
        score="index_score",
        score_lo="index_lo",
        score_hi="index_hi",
        n_indicators=pl.col("n_indicators").cast(pl.Int64),
    )
    return (
        pl.concat([factor_rows, index_rows], how="vertical_relaxed")
        .filter(pl.col("score").is_not_null())
        .with_columns(indicator_set=pl.lit(label))
        .select(list(TREND_SCHEMA))
        .cast(TREND_SCHEMA)
        .sort("org_code", "survey_year", "component")
    )
