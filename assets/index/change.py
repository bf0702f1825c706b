"""Year-on-year change of each factor and of the index, and whether it exceeds what sampling error explains.

For each survey year and the previous survey year in the table, both years are rescored on the common indicator
set (indicators with a normalised score in both years), so a factor is compared with itself rather than with a
differently composed factor. Scores are normalised within group and year, so a change is a move relative to the
trust's peers: a trust that improved exactly as much as its group shows no change. The interval of the change
comes from Monte Carlo draws with sampling error only (weights held at their chosen values, since the same weights
apply in both years); the change "exceeds sampling error" when that interval excludes zero.
Trusts whose benchmarking group differs between the two years are left out (their peers changed).
"""

from itertools import pairwise

import numpy as np
import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import YearDraws, simulate_year, year_arrays
from assets.indicators.framework import Framework

CHANGE_STREAM = 1
CHANGE_SCHEMA = {
    "org_code": pl.String,
    "survey_year": pl.Int64,
    "component": pl.String,
    "previous_year": pl.Int64,
    "factor_id": pl.Int64,
    "benchmarking_group": pl.String,
    "score": pl.Float64,
    "previous_score": pl.Float64,
    "change": pl.Float64,
    "change_lo": pl.Float64,
    "change_hi": pl.Float64,
    "exceeds_sampling_error": pl.Boolean,
    "n_common_indicators": pl.Int64,
}
CHANGE_COLUMNS = list(CHANGE_SCHEMA)


def _point_scores(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    factors = score_factors(indicators, framework)
    index = aggregate_index(factors, framework)
    return pl.concat(
        [
            factors.select(
                "org_code",
                "survey_year",
                "benchmarking_group",
                component=pl.format("factor_{}", "factor_id"),
                factor_id="factor_id",
                score="score",
                n_common_indicators="n_indicators",
            ),
            index.select(
                "org_code",
                "survey_year",
                "benchmarking_group",
                component=pl.lit("index"),
                factor_id=pl.lit(None, dtype=pl.Int64),
                score="index_score",
                n_common_indicators=pl.lit(None, dtype=pl.Int64),
            ),
        ]
    )


def _draw_columns(draws: YearDraws) -> dict[str, dict[str, np.ndarray]]:
    """component -> org_code -> (D,) draws."""
    a = draws.arrays
    columns = {
        f"factor_{factor}": {org: draws.factors[:, t, f] for t, org in enumerate(a.org_codes)}
        for f, factor in enumerate(a.factor_ids)
    }
    columns["index"] = {org: draws.index[:, t] for t, org in enumerate(a.org_codes)}
    return columns


def year_on_year_change(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    settings = framework.settings
    tail = (1.0 - settings.interval_level) / 2.0
    years = sorted(indicators["survey_year"].unique().to_list())
    frames = []
    for previous, year in pairwise(years):
        pair = indicators.filter(pl.col("survey_year").is_in([previous, year]) & pl.col("norm_score").is_not_null())
        common = (
            pair.group_by("indicator_id").agg(pl.col("survey_year").n_unique()).filter(pl.col("survey_year") == 2)
        )["indicator_id"]
        if common.is_empty():
            continue
        subset = framework.with_indicators(framework.indicators.filter(pl.col("indicator_id").is_in(common.implode())))
        pair = pair.filter(pl.col("indicator_id").is_in(common.implode()))
        points = _point_scores(pair, subset)
        now = points.filter(pl.col("survey_year") == year)
        before = points.filter(pl.col("survey_year") == previous).select(
            "org_code", "component", "benchmarking_group", previous_score="score"
        )
        joined = now.join(before, on=["org_code", "component", "benchmarking_group"]).filter(
            pl.col("score").is_not_null() & pl.col("previous_score").is_not_null()
        )
        draws = {
            y: _draw_columns(
                simulate_year(year_arrays(pair, subset, y), settings, stream=CHANGE_STREAM, perturb_weights=False)
            )
            for y in (previous, year)
        }
        low, high = [], []
        for org, component in joined.select("org_code", "component").iter_rows():
            difference = draws[year][component][org] - draws[previous][component][org]
            low.append(np.quantile(difference, tail))
            high.append(np.quantile(difference, 1.0 - tail))
        frames.append(
            joined.with_columns(
                previous_year=pl.lit(previous, dtype=pl.Int64),
                change=pl.col("score") - pl.col("previous_score"),
                change_lo=pl.Series(low, dtype=pl.Float64),
                change_hi=pl.Series(high, dtype=pl.Float64),
            )
        )
    if not frames:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    return (
        pl.concat(frames)
        .with_columns(
            change_lo=pl.min_horizontal("change_lo", "change"),
            change_hi=pl.max_horizontal("change_hi", "change"),
        )
        .with_columns(exceeds_sampling_error=(pl.col("change_lo") > 0) | (pl.col("change_hi") < 0))
        .select(CHANGE_COLUMNS)
        .sort("org_code", "survey_year", "component")
    )
