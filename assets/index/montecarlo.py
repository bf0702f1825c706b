"""Monte Carlo uncertainty for factor scores, barrier scores, the index and the rank within group (NumPy, vectorised).

Each draw perturbs every survey value by its sampling error and every weight (Dirichlet around the chosen
weights), then recomputes normalisation within group, factor and barrier scores, the index and the ranks:
- a percentage p from a base of n responses: Binomial(n / design_effect, p) / (n / design_effect);
- a 0-10 score m from n responses: Normal(m, variance_ratio * m (10 - m) / (n / design_effect)), clipped to 0-10
  (m (10 - m) bounds the variance of any 0-10 score with mean m; variance_ratio of the question's answer scale
  comes from data/reference/response_scale_variance.csv);
- administrative measures (A&E, RTT, cancer, sickness absence) are censuses and stay fixed;
- weights: Dirichlet(concentration x weights normalised within each factor, barrier and the index).
Missingness, peers and which trusts are ranked do not change between draws. Draws for a survey year come from the
stream SeedSequence([seed, survey_year, stream]) in fixed chunks, so reruns are identical.
"""

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.index.aggregate import RANK_DECIMALS, to_unit_interval
from assets.indicators.framework import PERFORMANCE_SOURCE, Framework, Settings

CHUNK = 100
BLOCK = 10
# one scoring thread per core this process may use: the work is NumPy loops and BLAS calls, which run without the GIL
SCORING_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
FIXED, PERCENT, SCORE = 0, 1, 2
KIND_OF_VALUE_TYPE = {
    "pct_favourable": PERCENT,
    "pct_unfavourable": PERCENT,
    "score_0_10": SCORE,
    "official_score": SCORE,
    "administrative": FIXED,
}


@dataclass(frozen=True)
class YearArrays:
    """One survey year as arrays: T trusts (sorted by group), I framework indicators, F factors, B barriers."""

    survey_year: int
    org_codes: list[str]
    group_slices: list[slice]
    values: np.ndarray  # (T, I) raw values, nan where missing
    bases: np.ndarray  # (T, I)
    orientation: np.ndarray  # (T, I) +1 / -1
    kind: np.ndarray  # (T, I) FIXED / PERCENT / SCORE
    present: np.ndarray  # (T, I) the point estimate has a normalised score
    variance_ratio: np.ndarray  # (I,)
    weights: np.ndarray  # (I,)
    factor_membership: np.ndarray  # (I, F)
    barrier_membership: np.ndarray  # (I, B)
    factor_weights: np.ndarray  # (F,)
    rankable: np.ndarray  # (T,)
    factor_scored: np.ndarray  # (T, F) the factor reaches min_factor_coverage
    barrier_scored: np.ndarray  # (T, B) the barrier reaches min_barrier_coverage
    factor_ids: list[int]
    barriers: list[str]
    # (I,) the indicators that take part in the draws: a normalised score for some trust or a sampled value. The
    # others (most of the framework before the 2024 survey) would only carry zeros through every draw, so the draws,
    # their normalisation and the weighted sums keep these U columns.
    used: np.ndarray


@dataclass(frozen=True)
class YearDraws:
    arrays: YearArrays
    factors: np.ndarray  # (D, T, F)
    barriers: np.ndarray  # (D, T, B)
    index: np.ndarray  # (D, T)
    rank: np.ndarray  # (D, T), nan for trusts that are not ranked


def year_arrays(indicators: pl.DataFrame, framework: Framework, survey_year: int) -> YearArrays:
    """Arrays for one survey year of the indicators table (as built by build_indicators)."""
    settings = framework.settings
    # framework order, kept stable: draws are assigned to indicators by position, so a reordering would change them
    spec = framework.indicators
    rows = indicators.filter(pl.col("survey_year") == survey_year)
    trusts = rows.select("org_code", "benchmarking_group").unique().sort("benchmarking_group", "org_code")
    org_codes = trusts["org_code"].to_list()
    groups = trusts["benchmarking_group"].to_list()
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    group_slices = [slice(a, b) for a, b in zip(starts, [*starts[1:], len(groups)], strict=True)]

    indicator_ids = spec["indicator_id"].to_list()
    shape = (len(org_codes), len(indicator_ids))
    t = rows["org_code"].replace_strict({c: i for i, c in enumerate(org_codes)}, return_dtype=pl.Int64).to_numpy()
    i = rows["indicator_id"].replace_strict({c: k for k, c in enumerate(indicator_ids)}, return_dtype=pl.Int64)
    i = i.to_numpy()
    values, bases = np.full(shape, np.nan), np.full(shape, np.nan)
    orientation, kind = np.ones(shape), np.full(shape, FIXED)
    present = np.zeros(shape, dtype=bool)
    values[t, i] = rows["raw_value"].to_numpy()
    bases[t, i] = rows["base"].fill_null(np.nan).to_numpy()
    orientation[t, i] = rows["orientation"].to_numpy()
    kind[t, i] = rows["value_type"].replace_strict(KIND_OF_VALUE_TYPE, return_dtype=pl.Int64).to_numpy()
    present[t, i] = rows["norm_score"].is_not_null().to_numpy()
    surveyed = (spec["source"] != PERFORMANCE_SOURCE).to_numpy()[None, :]
    kind = np.where(surveyed & (bases > 0), kind, FIXED)

    factor_ids = framework.factors["factor_id"].to_list()
    barriers = framework.barriers["barrier"].to_list()
    factor_membership = (spec["factor_id"].to_numpy()[:, None] == np.array(factor_ids)[None, :]).astype(float)
    barrier_membership = (spec["barrier"].to_numpy()[:, None] == np.array(barriers, dtype=object)[None, :]).astype(
        float
    )
    weights = spec["weight"].to_numpy()
    factor_weights = framework.factors["index_weight"].to_numpy()
    factor_total = weights @ factor_membership
    factor_coverage = np.divide(
        (present * weights) @ factor_membership,
        factor_total,
        out=np.zeros((len(org_codes), len(factor_ids))),
        where=factor_total > 0,
    )
    barrier_total = weights @ barrier_membership
    barrier_coverage = np.divide(
        (present * weights) @ barrier_membership,
        barrier_total,
        out=np.zeros((len(org_codes), len(barriers))),
        where=barrier_total > 0,
    )
    factor_scored = (factor_coverage > 0) & (factor_coverage >= settings.min_factor_coverage - 1e-9)
    barrier_scored = (barrier_coverage > 0) & (barrier_coverage >= settings.min_barrier_coverage - 1e-9)
    coverage = factor_coverage @ factor_weights / factor_weights.sum()
    rankable = (coverage >= settings.min_index_coverage - 1e-9) & factor_scored.any(axis=1)
    used = present.any(axis=0) | (kind != FIXED).any(axis=0)
    return YearArrays(
        survey_year=survey_year,
        org_codes=org_codes,
        group_slices=group_slices,
        values=values,
        bases=bases,
        orientation=orientation,
        kind=kind,
        present=present,
        variance_ratio=spec["variance_ratio"].to_numpy(),
        weights=weights,
        factor_membership=factor_membership,
        barrier_membership=barrier_membership,
        factor_weights=factor_weights,
        rankable=rankable,
        factor_scored=factor_scored,
        barrier_scored=barrier_scored,
        factor_ids=factor_ids,
        barriers=barriers,
        used=used,
    )


def draw_values(a: YearArrays, rng: np.random.Generator, n: int, design_effect: float) -> np.ndarray:
    """(n, T, U) perturbed values of the used indicators (every sampled value is in a used column, so leaving the
    others out changes no draw)."""
    values, bases, kind = a.values[:, a.used], a.bases[:, a.used], a.kind[:, a.used]
    out = np.broadcast_to(values, (n, *values.shape)).copy()
    percent = kind == PERCENT
    if percent.any():
        n_eff = np.maximum(np.rint(bases[percent] / design_effect), 1).astype(np.int64)
        p = np.clip(values[percent] / 100.0, 0.0, 1.0)
        out[:, percent] = 100.0 * rng.binomial(n_eff, p, size=(n, n_eff.size)) / n_eff
    score = kind == SCORE
    if score.any():
        m = np.clip(values[score], 0.0, 10.0)
        n_eff = np.maximum(bases[score] / design_effect, 1.0)
        ratio = np.broadcast_to(a.variance_ratio[a.used], values.shape)[score]
        sd = np.sqrt(ratio * m * (10.0 - m) / n_eff)
        out[:, score] = np.clip(m + sd * rng.standard_normal((n, m.size)), 0.0, 10.0)
    return out


def _dirichlet_weights(
    weights: np.ndarray, membership: np.ndarray, rng: np.random.Generator, n: int, concentration: float | None
) -> np.ndarray:
    """(n, K) weights; Dirichlet within each group of `membership` (K, G). Scale within a group does not matter
    because every use divides by the sum of the weights present, so unnormalised gamma draws suffice."""
    if concentration is None:
        return np.broadcast_to(weights, (n, weights.size))
    group_totals = membership @ (weights @ membership)  # each item's group total weight, 0 outside every group
    shape = np.where(group_totals > 0, concentration * weights / np.where(group_totals > 0, group_totals, 1), 1.0)
    return rng.gamma(shape, size=(n, weights.size))


def normalise_draws(oriented: np.ndarray, a: YearArrays, method: str) -> np.ndarray:
    """Normalise (n, T, U) oriented values of the used indicators within each benchmarking group; nan where not
    present."""
    out = np.full(oriented.shape, np.nan)
    present = a.present[:, a.used]
    for group in a.group_slices:
        mask = present[group]
        count = np.maximum(mask.sum(axis=0), 1)
        x = oriented[:, group, :]
        if method == "zscore":
            mean = np.where(mask, x, 0.0).sum(axis=1) / count
            deviation = np.where(mask, x - mean[:, None, :], 0.0)
            spread = np.sqrt((deviation**2).sum(axis=1) / count)[:, None, :]
            scores = np.divide(deviation, spread, out=np.zeros_like(deviation), where=spread > 0)
        elif method == "minmax":
            low = np.where(mask, x, np.inf).min(axis=1)[:, None, :]
            high = np.where(mask, x, -np.inf).max(axis=1)[:, None, :]
            span = high - low
            scores = np.divide(x - low, span, out=np.full(x.shape, 0.5), where=span > 0)
        elif method == "percentile":
            # ordinal ranks: ties have probability zero once values are perturbed
            order = np.argsort(np.where(mask, x, np.inf), axis=1)
            ranks = np.empty(x.shape)
            np.put_along_axis(ranks, order, np.arange(x.shape[1], dtype=float)[None, :, None], axis=1)
            scores = (ranks + 0.5) / count
        else:
            raise ValueError(f"unknown normalisation {method!r}")
        out[:, group, :] = np.where(mask, scores, np.nan)
    return out


def _weighted_means(scores: np.ndarray, a: YearArrays, weights: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """(n, T, G) weighted means of the (n, T, U) scores of the used indicators over the groups of `membership`
    (I, G), with (n, I) weights of all indicators; nan where a group has no score."""
    present = a.present[:, a.used]
    used_weights = weights[:, None, a.used]
    numerator = (np.where(present, scores, 0.0) * used_weights) @ membership[a.used]
    denominator = (present * used_weights) @ membership[a.used]
    return np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)


def _index(factors: np.ndarray, factor_weights: np.ndarray, settings: Settings, aggregation: str) -> np.ndarray:
    measured = ~np.isnan(factors)
    if aggregation == "geometric":
        unit = to_unit_interval(np.where(measured, factors, 1.0), settings.normalisation, settings.geometric_floor)
        terms = np.log(unit)
    else:
        terms = factors
    numerator = (np.where(measured, terms, 0.0) * factor_weights[:, None, :]).sum(axis=2)
    denominator = (measured * factor_weights[:, None, :]).sum(axis=2)
    index = np.divide(numerator, denominator, out=np.full(numerator.shape, np.nan), where=denominator > 0)
    return np.exp(index) if aggregation == "geometric" else index


def _ranks(index: np.ndarray, a: YearArrays) -> np.ndarray:
    """Rank 1 = highest index among the group's ranked trusts; ties share the better rank."""
    ranks = np.full(index.shape, np.nan)
    for group in a.group_slices:
        members = np.flatnonzero(a.rankable[group]) + group.start
        values = np.round(index[:, members], RANK_DECIMALS)
        ranks[:, members] = 1 + (values[:, None, :] > values[:, :, None]).sum(axis=2)
    return ranks


def _score_block(
    a: YearArrays,
    settings: Settings,
    values: np.ndarray,
    factor_weights: np.ndarray,
    barrier_weights: np.ndarray,
    index_weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(factors, barriers, index, rank) of a block of draws from their values and weights."""
    scores = normalise_draws(values * a.orientation[:, a.used], a, settings.normalisation)
    factors = np.where(a.factor_scored, _weighted_means(scores, a, factor_weights, a.factor_membership), np.nan)
    barriers = np.where(a.barrier_scored, _weighted_means(scores, a, barrier_weights, a.barrier_membership), np.nan)
    index = _index(factors, index_weights, settings, settings.aggregation)
    return factors, barriers, index, _ranks(index, a)


def simulate_year(
    a: YearArrays,
    settings: Settings,
    *,
    draws: int | None = None,
    stream: int = 0,
    perturb_values: bool = True,
    perturb_weights: bool = True,
) -> YearDraws:
    """Run the Monte Carlo for one survey year. The random numbers are drawn CHUNK draws at a time in this thread,
    in stream order, so every draw stays as it is. The scores are computed BLOCK draws at a time on a pool of
    threads: a block's draws are scored on their own (small blocks keep the temporaries in the processor's cache),
    NumPy releases the GIL in its loops and in the binomial draws, and the next chunk is drawn while the last one
    is scored. Each block's result lands in its own place, so the output does not depend on the threads."""
    draws = draws or settings.mc_draws
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, a.survey_year, stream]))
    concentration = settings.dirichlet_concentration if perturb_weights else None
    one_factor_index = np.ones((a.factor_weights.size, 1))
    fixed = a.values[None, :, a.used]
    scored: list[Future[tuple[np.ndarray, ...]]] = []
    with ThreadPoolExecutor(SCORING_THREADS) as pool:
        for start in range(0, draws, CHUNK):
            n = min(CHUNK, draws - start)
            values = draw_values(a, rng, n, settings.design_effect) if perturb_values else fixed.repeat(n, 0)
            factor_weights = _dirichlet_weights(a.weights, a.factor_membership, rng, n, concentration)
            barrier_weights = _dirichlet_weights(a.weights, a.barrier_membership, rng, n, concentration)
            index_weights = _dirichlet_weights(a.factor_weights, one_factor_index, rng, n, concentration)
            # at most one chunk scored ahead of the one being drawn, so memory stays at two chunks' values
            wait(scored[: max(0, len(scored) - CHUNK // BLOCK)])
            scored += [
                pool.submit(
                    _score_block, a, settings, values[b], factor_weights[b], barrier_weights[b], index_weights[b]
                )
                for b in (slice(b, b + BLOCK) for b in range(0, n, BLOCK))
            ]
        factors, barriers, index, rank = zip(*(future.result() for future in scored), strict=True)
    return YearDraws(
        arrays=a,
        factors=np.concatenate(factors),
        barriers=np.concatenate(barriers),
        index=np.concatenate(index),
        rank=np.concatenate(rank),
    )


def simulate(
    indicators: pl.DataFrame,
    framework: Framework,
    *,
    stream: int = 0,
    perturb_values: bool = True,
    perturb_weights: bool = True,
) -> dict[int, YearDraws]:
    """Monte Carlo draws for every survey year in the indicators table."""
    return {
        year: simulate_year(
            year_arrays(indicators, framework, year),
            framework.settings,
            stream=stream,
            perturb_values=perturb_values,
            perturb_weights=perturb_weights,
        )
        for year in sorted(indicators["survey_year"].unique().to_list())
    }


@dataclass(frozen=True)
class Intervals:
    factors: pl.DataFrame  # org_code, survey_year, factor_id, score_lo, score_hi
    barriers: pl.DataFrame  # org_code, survey_year, barrier, score_lo, score_hi
    index: pl.DataFrame  # org_code, survey_year, index_lo, index_hi, rank_lo, rank_hi


def _bounds(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail], axis=0)  # one partition finds both order statistics
    return low, high


def _long(a: YearArrays, low: np.ndarray, high: np.ndarray, name: str, labels: list) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "org_code": np.repeat(a.org_codes, len(labels)),
            "survey_year": np.full(low.size, a.survey_year, dtype=np.int64),
            name: np.tile(np.array(labels), len(a.org_codes)),
            "score_lo": low.ravel(),
            "score_hi": high.ravel(),
        }
    ).with_columns(pl.col("score_lo", "score_hi").fill_nan(None))


def intervals(draws: dict[int, YearDraws], level: float) -> Intervals:
    """Equal-tailed `level` intervals across draws (rank bounds are whole ranks: lower and higher order statistics)."""
    factors, barriers, index = [], [], []
    tail = (1.0 - level) / 2.0
    for year_draws in draws.values():
        a = year_draws.arrays
        factors.append(_long(a, *_bounds(year_draws.factors, level), "factor_id", a.factor_ids))
        barriers.append(_long(a, *_bounds(year_draws.barriers, level), "barrier", a.barriers))
        index_lo, index_hi = _bounds(year_draws.index, level)
        index.append(
            pl.DataFrame(
                {
                    "org_code": a.org_codes,
                    "survey_year": np.full(len(a.org_codes), a.survey_year, dtype=np.int64),
                    "index_lo": index_lo,
                    "index_hi": index_hi,
                    "rank_lo": np.quantile(year_draws.rank, tail, axis=0, method="lower"),
                    "rank_hi": np.quantile(year_draws.rank, 1.0 - tail, axis=0, method="higher"),
                }
            ).with_columns(
                pl.col("index_lo", "index_hi").fill_nan(None),
                pl.col("rank_lo", "rank_hi").fill_nan(None).cast(pl.Int64),
            )
        )
    return Intervals(factors=pl.concat(factors), barriers=pl.concat(barriers), index=pl.concat(index))
