"""The support-type rule applied in every Monte Carlo draw, and the advice published only where it holds
(methods-notes §6).

Rule (Constructive comfort, data/framework/barriers.csv): the barrier that is lowest in the trust's own relative
profile maps to a national support type. In each draw d the lowest barrier of that draw gives type_d; p_type_k is
the share of draws giving type k. The published suggestion is the modal type, and only where
- the trust is ranked (an unranked year says nothing: no rank, no weakest component, no advice);
- at least one barrier is credibly below its group (barrier_scores.score_hi below the group's average score);
- the modal type's share reaches support_min_probability (method_settings.csv);
- the barrier driving it (the modal type's barrier with the highest p_weakest) is itself credibly below the group.
Otherwise suggested_support_type is null and support_status gives the first reason that applies.
"""

import numpy as np
import polars as pl

from assets.index.montecarlo import YearDraws
from assets.indicators.framework import Framework

TYPE_COLUMNS = ["p_type_1", "p_type_2", "p_type_3"]
SUGGESTED = "suggested"
NOT_RANKED = "not ranked: no advice"
NONE_BELOW = "no barrier credibly below the group"
NOT_CLEAR = "no clear weakest barrier"
DRIVER_NOT_BELOW = "weakest barrier not credibly below the group"
NO_BARRIER = "no barrier scored"


def type_numbers(framework: Framework, barriers: list[str]) -> np.ndarray:
    """(B,) support type number (1-3) of each barrier, in the draws' barrier order."""
    type_of = dict(framework.barriers.select("barrier", "support_type").iter_rows())
    return np.array([int(type_of[b].removeprefix("type_")) for b in barriers])


def draw_types(weakest: np.ndarray, types: np.ndarray) -> np.ndarray:
    """(D, T) support type number in each draw from the index of the weakest barrier (-1 = none scored → 0)."""
    return np.where(weakest >= 0, types[np.maximum(weakest, 0)], 0)


def type_shares(per_draw: np.ndarray) -> np.ndarray:
    """(T, 3) share of draws giving type 1, 2, 3; nan for a trust with no scored barrier."""
    shares = np.stack([(per_draw == k).mean(axis=0) for k in (1, 2, 3)], axis=1)
    return np.where((per_draw[0] > 0)[:, None], shares, np.nan)


def type_frame(year_draws: YearDraws, weakest: np.ndarray, framework: Framework) -> pl.DataFrame:
    a = year_draws.arrays
    shares = type_shares(draw_types(weakest, type_numbers(framework, a.barriers)))
    return pl.DataFrame(
        {
            "org_code": a.org_codes,
            "survey_year": np.full(len(a.org_codes), a.survey_year, dtype=np.int64),
            **{column: shares[:, k] for k, column in enumerate(TYPE_COLUMNS)},
        }
    ).with_columns(pl.col(TYPE_COLUMNS).fill_nan(None))


def support_advice(index: pl.DataFrame, barriers: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Per trust and year: suggested_support_type, support_status and support_type_probability (the modal
    type's share of draws).

    index: org_code, survey_year, ranked, p_type_1..3.
    barriers: org_code, survey_year, barrier, score, score_hi, group_mean, p_weakest.
    """
    keys = ["org_code", "survey_year"]
    threshold = framework.settings.support_min_probability
    names = framework.support_types.select(
        modal_type=pl.col("support_type").str.strip_prefix("type_").cast(pl.Int64), support_name="support_name"
    )
    type_of = framework.barriers.select(
        "barrier", modal_type=pl.col("support_type").str.strip_prefix("type_").cast(pl.Int64)
    )
    shares = pl.concat_list(TYPE_COLUMNS)
    modal = index.select(
        *keys,
        "ranked",
        support_type_probability=pl.max_horizontal(TYPE_COLUMNS),
        modal_type=shares.list.arg_max().cast(pl.Int64) + 1,
    )
    below = barriers.with_columns(below=pl.col("score_hi") < pl.col("group_mean"))
    any_below = below.group_by(keys).agg(any_below=pl.col("below").fill_null(False).any())
    driver = (
        below.join(type_of, on="barrier")
        .filter(pl.col("p_weakest").is_not_null())
        .sort(*keys, "p_weakest", descending=[False, False, True])
        .group_by(*keys, "modal_type", maintain_order=True)
        .agg(driver_below=pl.col("below").first())
    )
    status = (
        pl.when(~pl.col("ranked").fill_null(False))
        .then(pl.lit(NOT_RANKED))
        .when(pl.col("support_type_probability").is_null())
        .then(pl.lit(NO_BARRIER))
        .when(~pl.col("any_below").fill_null(False))
        .then(pl.lit(NONE_BELOW))
        .when(pl.col("support_type_probability") < threshold - 1e-12)
        .then(pl.lit(NOT_CLEAR))
        .when(~pl.col("driver_below").fill_null(False))
        .then(pl.lit(DRIVER_NOT_BELOW))
        .otherwise(pl.lit(SUGGESTED))
    )
    return (
        modal.join(any_below, on=keys, how="left")
        .join(driver, on=[*keys, "modal_type"], how="left")
        .join(names, on="modal_type", how="left")
        .with_columns(support_status=status)
        .select(
            *keys,
            suggested_support_type=pl.when(pl.col("support_status") == SUGGESTED).then("support_name"),
            support_status="support_status",
            support_type_probability=pl.when("ranked").then("support_type_probability"),
        )
    )
