"""Factor and barrier scores: the weighted mean of a trust's normalised indicators, with coverage.

coverage = (weight of the component's indicators that have a normalised score) / (weight of all its indicators
in the framework). A component with no data is null and labelled "not measured", never zero; one whose coverage is
below min_factor_coverage / min_barrier_coverage (method_settings.csv) is null and labelled "coverage below minimum".
Missing indicators are not imputed: the score is the weighted mean of the indicators present.
"""

from typing import Literal

import polars as pl

from assets.indicators.framework import Framework

ORG_KEYS = ["org_code", "survey_year", "benchmarking_group"]
MEASURED, NOT_MEASURED, BELOW_MINIMUM = "measured", "not measured", "coverage below minimum"
Component = Literal["factor_id", "barrier"]


def _components(framework: Framework, component: Component) -> pl.DataFrame:
    if component == "factor_id":
        return framework.factors.select("factor_id", "factor_name")
    return framework.barriers.select("barrier", "barrier_name")


def min_coverage(framework: Framework, component: Component) -> float:
    settings = framework.settings
    return settings.min_factor_coverage if component == "factor_id" else settings.min_barrier_coverage


def score_components(indicators: pl.DataFrame, framework: Framework, component: Component) -> pl.DataFrame:
    """One row per trust, survey year and factor (component="factor_id") or barrier (component="barrier"):
    score, coverage, n_indicators and status, for every trust that has any indicator that year."""
    # the tolerance keeps a coverage of exactly the minimum despite floating-point sums
    enough = pl.col("coverage") >= min_coverage(framework, component) - 1e-9
    weights = framework.indicators.filter(pl.col(component).is_not_null()).select("indicator_id", component, "weight")
    totals = weights.group_by(component).agg(total_weight=pl.col("weight").sum())
    sums = (
        indicators.filter(pl.col("norm_score").is_not_null())
        .join(weights, on="indicator_id")
        .group_by(*ORG_KEYS, component)
        .agg(
            weighted=(pl.col("weight") * pl.col("norm_score")).sum(),
            used_weight=pl.col("weight").sum(),
            n_indicators=pl.len().cast(pl.Int64),
        )
    )
    return (
        indicators.select(ORG_KEYS)
        .unique()
        .join(_components(framework, component), how="cross")
        .join(sums, on=[*ORG_KEYS, component], how="left")
        .join(totals, on=component, how="left")
        .select(
            *ORG_KEYS,
            pl.all().exclude(*ORG_KEYS, "weighted", "used_weight", "n_indicators", "total_weight"),
            score=pl.col("weighted") / pl.col("used_weight"),
            coverage=(pl.col("used_weight").fill_null(0.0) / pl.col("total_weight")).fill_null(0.0),
            n_indicators=pl.col("n_indicators").fill_null(0),
        )
        .with_columns(
            score=pl.when(enough).then("score"),
            status=pl.when(pl.col("score").is_null())
            .then(pl.lit(NOT_MEASURED))
            .when(enough)
            .then(pl.lit(MEASURED))
            .otherwise(pl.lit(BELOW_MINIMUM)),
        )
        .sort(*ORG_KEYS, component)
    )


def score_factors(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    return score_components(indicators, framework, "factor_id")


def score_barriers(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    return score_components(indicators, framework, "barrier")


def position_in_group(scores: pl.DataFrame, component: str) -> pl.DataFrame:
    """Mid-rank percentile (0-1, higher = better) of each score among measured trusts of the same group and year."""
    keys = ["survey_year", "benchmarking_group", component]
    return scores.with_columns(
        position_in_group=(pl.col("score").rank("average").over(keys) - 0.5) / pl.col("score").count().over(keys)
    )
