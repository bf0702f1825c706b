"""First-order variance-based (Sobol) sensitivity of each ranked trust's rank to the uncertain inputs of the index
(methods-notes §4, as COINr reports it):

- weights: the Dirichlet draw of indicator and factor weights (as in the Monte Carlo);
- normalisation: the default or an alternative of method_settings.csv, sampled uniformly;
- aggregation: the default or an alternative, sampled uniformly;
- sampling: the survey sampling error with a design effect sampled uniformly from the setting and its alternatives
  (1, 1.5, 2), so this input carries both the sampling noise and the unknown design effect.

Estimator (Saltelli et al. 2010): two independent sample matrices A and B of N runs; A_B^i is A with input i taken
from B; V_i = mean(f(B) (f(A_B^i) - f(A))) with f centred on its mean; S_i = V_i / Var(f) over A and B. N (m + 2)
model runs, vectorised. S_i is the share of the rank's variance that input i explains on its own; the remainder is
interactions. Per trust the estimate is noisy (it can fall slightly outside 0-1 with N = sobol_base_runs); its
median over a group's trusts is the stable summary.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from assets.index.aggregate import to_unit_interval
from assets.index.montecarlo import (
    BLOCK,
    SCORING_THREADS,
    YearArrays,
    _dirichlet_weights,
    _ranks,
    _weighted_means,
    draw_values,
    normalise_draws,
)
from assets.indicators.framework import Framework

INPUTS = ("weights", "normalisation", "aggregation", "sampling")
SOBOL_STREAM = 4


def _sample(a: YearArrays, framework: Framework, rng: np.random.Generator, n: int) -> dict[str, object]:
    settings = framework.settings
    normalisations = (settings.normalisation, *settings.normalisation_alternatives)
    aggregations = (settings.aggregation, *settings.aggregation_alternatives)
    effects = (settings.design_effect, *(float(d) for d in settings.design_effect_alternatives))
    deff = rng.integers(0, len(effects), n)
    values = np.empty((n, a.values.shape[0], int(a.used.sum())))
    for k, effect in enumerate(effects):
        runs = np.flatnonzero(deff == k)
        if runs.size:
            values[runs] = draw_values(a, rng, runs.size, effect)
    return {
        "weights": (
            _dirichlet_weights(a.weights, a.factor_membership, rng, n, settings.dirichlet_concentration),
            _dirichlet_weights(
                a.factor_weights, np.ones((a.factor_weights.size, 1)), rng, n, settings.dirichlet_concentration
            ),
        ),
        "normalisation": np.array(normalisations)[rng.integers(0, len(normalisations), n)],
        "aggregation": np.array(aggregations)[rng.integers(0, len(aggregations), n)],
        "sampling": values,
    }


def _model(a: YearArrays, framework: Framework, runs: dict[str, object]) -> np.ndarray:
    """(n, T) rank within group in each run (nan for trusts that are not ranked), BLOCK runs at a time on a pool of
    threads (each run is computed on its own, so neither the blocks nor the threads change a value; small blocks
    keep the temporaries in the processor's cache)."""
    n = runs["sampling"].shape[0]
    blocks = [
        {name: _rows(value, slice(start, start + BLOCK)) for name, value in runs.items()}
        for start in range(0, n, BLOCK)
    ]
    with ThreadPoolExecutor(SCORING_THREADS) as pool:
        return np.concatenate(list(pool.map(lambda block: _model_runs(a, framework, block), blocks)))


def _rows(value: object, rows: slice) -> object:
    return tuple(v[rows] for v in value) if isinstance(value, tuple) else value[rows]  # type: ignore[index]


def _model_runs(a: YearArrays, framework: Framework, runs: dict[str, object]) -> np.ndarray:
    settings = framework.settings
    indicator_weights, factor_weights = runs["weights"]
    values = runs["sampling"]
    normalisation, aggregation = runs["normalisation"], runs["aggregation"]
    n = values.shape[0]
    index = np.full((n, len(a.org_codes)), np.nan)
    for method in np.unique(normalisation):
        chosen = np.flatnonzero(normalisation == method)
        scores = normalise_draws(values[chosen] * a.orientation[:, a.used], a, str(method))
        factors = _weighted_means(scores, a, indicator_weights[chosen], a.factor_membership)
        factors = np.where(a.factor_scored, factors, np.nan)
        measured = ~np.isnan(factors)
        weights = factor_weights[chosen][:, None, :] * measured
        total = weights.sum(axis=2)
        arithmetic = np.divide(
            (np.where(measured, factors, 0.0) * weights).sum(axis=2),
            total,
            out=np.full(total.shape, np.nan),
            where=total > 0,
        )
        unit = to_unit_interval(np.where(measured, factors, 1.0), str(method), settings.geometric_floor)
        geometric = np.exp(
            np.divide((np.log(unit) * weights).sum(axis=2), total, out=np.full(total.shape, np.nan), where=total > 0)
        )
        index[chosen] = np.where((aggregation[chosen] == "geometric")[:, None], geometric, arithmetic)
    return _ranks(index, a)


def _swap(base: dict[str, object], other: dict[str, object], name: str) -> dict[str, object]:
    return {**base, name: other[name]}


def first_order(a: YearArrays, framework: Framework, n: int) -> dict[str, np.ndarray]:
    """input -> (T,) first-order index of each trust's rank; nan where the rank never varies or is not ranked."""
    rng = np.random.default_rng(np.random.SeedSequence([framework.settings.seed, a.survey_year, SOBOL_STREAM]))
    sample_a, sample_b = _sample(a, framework, rng, n), _sample(a, framework, rng, n)
    f_a, f_b = _model(a, framework, sample_a), _model(a, framework, sample_b)
    # centring on the mean rank removes the large f0^2 term from the estimator's variance (Sobol' 2001)
    mean = np.concatenate([f_a, f_b]).mean(axis=0)
    f_a, f_b = f_a - mean, f_b - mean
    variance = np.concatenate([f_a, f_b]).var(axis=0)
    result = {}
    for name in INPUTS:
        f_ab = _model(a, framework, _swap(sample_a, sample_b, name)) - mean
        v_i = (f_b * (f_ab - f_a)).mean(axis=0)
        result[name] = np.divide(v_i, variance, out=np.full(variance.shape, np.nan), where=variance > 0)
    return result


def sobol_rows(a: YearArrays, framework: Framework, n: int) -> pl.DataFrame:
    """Long rows (org_code, survey_year, input, first_order_index) for the ranked trusts of one year."""
    indices = first_order(a, framework, n)
    ranked = np.flatnonzero(a.rankable)
    return pl.DataFrame(
        {
            "org_code": [a.org_codes[t] for t in ranked for _ in INPUTS],
            "survey_year": np.full(ranked.size * len(INPUTS), a.survey_year, dtype=np.int64),
            "input": [name for _ in ranked for name in INPUTS],
            "first_order_index": [float(indices[name][t]) for t in ranked for name in INPUTS],
        }
    ).with_columns(pl.col("first_order_index").fill_nan(None))
