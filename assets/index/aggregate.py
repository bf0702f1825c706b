"""The change-readiness index: factors aggregated per trust and year, ranked within the benchmarking group.

- arithmetic (default): weighted mean of the measured factor scores (factor weights in factors.csv).
- geometric: factor scores mapped to (0, 1] (normal CDF of a z-score; percentile and min-max scores are already
  in [0, 1]), floored at `geometric_floor`, then a weighted geometric mean; the index is then on that unit scale.
- coverage: factor-weighted mean of factor coverages; trusts below `min_index_coverage` are listed, not ranked.
- rank: 1 = highest index in the group and year; ties (equal to 9 decimals) share the better rank ("min" /
  competition ranking: 1, 2, 2, 4).
"""

import math

import numpy as np
import polars as pl

from assets.indicators.framework import Framework

ORG_KEYS = ["org_code", "survey_year", "benchmarking_group"]
GROUP_KEYS = ["survey_year", "benchmarking_group"]
# indices equal to this many decimals are ties, so floating-point noise in equal sums cannot split them
RANK_DECIMALS = 9

try:  # SciPy's vectorised erf where it is installed (it arrives with great-expectations); exact either way
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - the standard library's erf, element by element
    _erf = np.vectorize(math.erf, otypes=[float])


def normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF, 0.5 (1 + erf(z / sqrt 2)), exact to double precision."""
    return 0.5 * (1.0 + _erf(np.asarray(z, dtype=float) / math.sqrt(2.0)))


def to_unit_interval(scores: np.ndarray, normalisation: str, floor: float) -> np.ndarray:
    """Factor scores on (0, 1] for the geometric mean: z-scores through the normal CDF, [0, 1] scores as they are."""
    unit = normal_cdf(scores) if normalisation == "zscore" else scores
    return np.maximum(unit, floor)


def aggregate_index(
    factor_scores: pl.DataFrame,
    framework: Framework,
    *,
    aggregation: str | None = None,
    normalisation: str | None = None,
) -> pl.DataFrame:
    """One row per trust and year: index_score, coverage, n_factors, ranked, rank_in_group, n_in_group.

    `aggregation` and `normalisation` default to the framework settings; pass the normalisation the factor scores
    were built with when it is not the default (it decides how the geometric mean makes scores positive).
    """
    settings = framework.settings
    aggregation = aggregation or settings.aggregation
    normalisation = normalisation or settings.normalisation
    scored = factor_scores.join(framework.factors.select("factor_id", "index_weight"), on="factor_id")
    measured = pl.col("score").is_not_null()
    weight = pl.col("index_weight")
    if aggregation == "arithmetic":
        index = (weight * pl.col("score")).filter(measured).sum() / weight.filter(measured).sum()
    elif aggregation == "geometric":
        unit = to_unit_interval(scored["score"].to_numpy(), normalisation, settings.geometric_floor)
        scored = scored.with_columns(log_unit=pl.Series(np.log(unit)))
        index = ((weight * pl.col("log_unit")).filter(measured).sum() / weight.filter(measured).sum()).exp()
    else:
        raise ValueError(f"unknown aggregation {aggregation!r}")
    summary = scored.group_by(ORG_KEYS).agg(
        index_score=pl.when(measured.any()).then(index),
        coverage=(weight * pl.col("coverage")).sum() / weight.sum(),
        n_factors=measured.sum().cast(pl.Int64),
    )
    return rank_within_group(summary, settings.min_index_coverage).sort(ORG_KEYS)


def rank_within_group(summary: pl.DataFrame, min_coverage: float) -> pl.DataFrame:
    """Add ranked, rank_in_group (1 = best, ties share the better rank) and n_in_group (ranked trusts)."""
    # the tolerance keeps a coverage of exactly the minimum ranked despite floating-point sums
    ranked = pl.col("index_score").is_not_null() & (pl.col("coverage") >= min_coverage - 1e-9)
    return summary.with_columns(ranked=ranked).with_columns(
        rank_in_group=pl.when("ranked")
        .then(pl.col("index_score").round(RANK_DECIMALS))
        .rank("min", descending=True)
        .over(GROUP_KEYS)
        .cast(pl.Int64),
        n_in_group=pl.col("ranked").sum().over(GROUP_KEYS).cast(pl.Int64),
    )
