"""The relative (within-trust) profile: which factor or barrier is weak for this trust, whatever its general level.

Factor and barrier scores are standardised within the benchmarking group, and they share one strong general
dimension (the first principal component of the seven factor scores explains about 85% of their variance in 2024):
a trust good on one factor is good on all, so "furthest below the group" mostly repeats the index. The profile
removes the trust's own level first (ipsative form, methods-notes §1):

    relative_score_ik = score_ik - mean over the trust's measured components k' of score_ik'

The residual from the first principal component was the alternative; the ipsative form needs no estimated
loadings (which would change with every group and year), reads as "above or below the trust's own average", and
its draws come free from the Monte Carlo. Interval: 5th and 95th percentiles of the relative score over the draws.
p_weakest_ik = share of draws in which component k is the lowest of trust i's measured components;
p_two_weakest_ik = share of draws in which it is one of the two lowest.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.index.montecarlo import YearDraws


@dataclass(frozen=True)
class ProfileDraws:
    """Summaries over D draws of a (D, T, K) array of component scores (nan = not scored)."""

    relative_lo: np.ndarray  # (T, K)
    relative_hi: np.ndarray  # (T, K)
    p_weakest: np.ndarray  # (T, K), nan where not scored
    p_two_weakest: np.ndarray  # (T, K), nan where not scored or fewer than two scored
    weakest: np.ndarray  # (D, T) index of the lowest component in each draw, -1 where none is scored


def relative(scores: np.ndarray) -> np.ndarray:
    """Each component minus the mean of the trust's scored components (last axis); nan stays nan."""
    scored = ~np.isnan(scores)
    count = scored.sum(axis=-1, keepdims=True)
    mean = np.divide(
        np.where(scored, scores, 0.0).sum(axis=-1, keepdims=True),
        count,
        out=np.full(count.shape, np.nan),
        where=count > 0,
    )
    return scores - mean


def profile_draws(draws: np.ndarray, level: float) -> ProfileDraws:
    """Relative-profile summaries of (D, T, K) draws. Which components are scored does not change between draws."""
    scored = ~np.isnan(draws[0])  # (T, K)
    n_scored = scored.sum(axis=1)
    rel = relative(draws)
    tail = (1.0 - level) / 2.0
    filled = np.where(scored[None], rel, np.inf)
    order = np.argsort(filled, axis=2, kind="stable")
    weakest = np.where(n_scored[None] > 0, order[:, :, 0], -1)
    k = draws.shape[2]
    lowest = np.eye(k, dtype=bool)[order[:, :, 0]]
    second = np.eye(k, dtype=bool)[order[:, :, 1]] if k > 1 else np.zeros_like(lowest)
    p_weakest = np.where(scored, lowest.mean(axis=0), np.nan)
    p_two = np.where(scored & (n_scored[:, None] >= 2), (lowest | second).mean(axis=0), np.nan)
    with np.errstate(all="ignore"):
        low, high = np.where(scored, np.quantile(np.where(scored[None], rel, 0.0), [tail, 1.0 - tail], axis=0), np.nan)
    return ProfileDraws(low, high, p_weakest, p_two, weakest)


def profile_frame(year_draws: YearDraws, summary: ProfileDraws, which: str) -> pl.DataFrame:
    """Long frame (org_code, survey_year, factor_id | barrier, relative_lo, relative_hi, p_weakest, p_two_weakest)
    of `summary`, the profile of the factors (which="factors") or barriers (which="barriers") of one survey year."""
    a = year_draws.arrays
    labels = a.factor_ids if which == "factors" else a.barriers
    return pl.DataFrame(
        {
            "org_code": np.repeat(a.org_codes, len(labels)),
            "survey_year": np.full(len(a.org_codes) * len(labels), a.survey_year, dtype=np.int64),
            "factor_id" if which == "factors" else "barrier": np.tile(np.array(labels), len(a.org_codes)),
            "relative_lo": summary.relative_lo.ravel(),
            "relative_hi": summary.relative_hi.ravel(),
            "p_weakest": summary.p_weakest.ravel(),
            "p_two_weakest": summary.p_two_weakest.ravel(),
        }
    ).with_columns(pl.col("relative_lo", "relative_hi", "p_weakest", "p_two_weakest").fill_nan(None))


def add_relative_scores(scores: pl.DataFrame) -> pl.DataFrame:
    """relative_score: the point score minus the mean of the trust's scored components that year."""
    return scores.with_columns(relative_score=pl.col("score") - pl.col("score").mean().over("org_code", "survey_year"))


def weakest_of_profile(scores: pl.DataFrame, component: str, name: str, threshold: float, *, two: bool) -> pl.DataFrame:
    """Per trust and year: the component with the highest p_weakest where it reaches `threshold` (else null, with
    the reason in `status`) and, when `two`, the second: the other component most often among the two lowest,
    where that probability also reaches the threshold. Rows without any scored component get no row."""
    scored = scores.filter(pl.col("p_weakest").is_not_null())
    keys = ["org_code", "survey_year"]
    first = (
        scored.sort(*keys, pl.col("p_weakest"), component, descending=[False, False, True, False])
        .group_by(keys, maintain_order=True)
        .agg(first=pl.col(component).first(), first_name=pl.col(name).first(), first_p=pl.col("p_weakest").first())
    )
    result = first.with_columns(
        status=pl.when(pl.col("first_p") >= threshold - 1e-12)
        .then(pl.lit("clear"))
        .otherwise(
            pl.format(
                "no component is the lowest of the trust's profile in {}% of draws", pl.lit(round(100 * threshold))
            )
        ),
    ).with_columns(
        first=pl.when(pl.col("status") == "clear").then("first"),
        first_name=pl.when(pl.col("status") == "clear").then("first_name"),
    )
    if not two:
        return result.drop("first_p")
    second = (
        scored.join(first.select(*keys, "first"), on=keys)
        .filter(pl.col(component) != pl.col("first"))
        .sort(*keys, pl.col("p_two_weakest"), component, descending=[False, False, True, False], nulls_last=True)
        .group_by(keys, maintain_order=True)
        .agg(
            second=pl.col(component).first(), second_name=pl.col(name).first(), second_p=pl.col("p_two_weakest").first()
        )
    )
    clear = (pl.col("status") == "clear") & (pl.col("second_p") >= threshold - 1e-12)
    return (
        result.join(second, on=keys, how="left")
        .with_columns(second=pl.when(clear).then("second"), second_name=pl.when(clear).then("second_name"))
        .drop("first_p", "second_p")
    )
