"""Factor and barrier scores: the weighted mean of a trust's normalised indicators, with coverage.

coverage = (weight of the component's indicators that have a normalised score) / (weight of all its indicators
in the framework). A component with no data is null and labelled "not measured", never zero.
"""

from typing import Literal

import polars as pl

from assets.indicators.framework import Framework

ORG_KEYS = ["org_code", "survey_year", "benchmarking_group"]
MEASURED, NOT_MEASURED = "measured", "not measured"
Component = Literal["factor_id", "barrier"]


def _components(framework: Framework, component: Component) -> pl.DataFrame:
    if component == "factor_id":
        return framework.factors.select("factor_id", "factor_name")
    return framework.barriers.select("barrier", "barrier_name")


def score_components(indicators: pl.DataFrame, framework: Framework, component: Component) -> pl.DataFrame:
    """One row per trust, survey year and factor (component="factor_id") or barrier (component="barrier"):
    score, coverage, n_indicators and status, for every trust that has any indicator that year."""
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
            status=pl.when(pl.col("used_weight") > 0).then(pl.lit(MEASURED)).otherwise(pl.lit(NOT_MEASURED)),
        )
        .sort(*ORG_KEYS, component)
    )


def score_factors(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    return score_components(indicators, framework, "factor_id")


def score_barriers(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    return score_components(indicators, framework, "barrier")
