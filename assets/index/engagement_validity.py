"""How far the index is the official engagement score, and what it adds beyond it (index_validity rows).

official_score_agreement: within each benchmarking group and survey year that has official scores
(people_promise_scores), Spearman's rho of the index and of each factor with the official staff engagement theme
score (`staff_engagement`) and with the mean of the seven People Promise element scores (PP1-PP7), with a 90%
interval (Fisher z with the Bonett-Wright standard error sqrt((1 + rho^2 / 2) / (n - 3))) and n.

incremental_validity: for every outcome of outcomes.csv and every group and year with enough trusts, whether the
index explains the outcome beyond engagement E (methods-notes §5): the partial correlation r(Y, I | E) and
delta R^2 = R^2(Y ~ E + I) - R^2(Y ~ E), each with a 90% trust bootstrap interval. The index is the one the
outcome association uses (rebuilt without the outcome's own indicator, so the test is not circular); the outcome
and E are taken as they are (within one group and year a z-score is a linear rescaling, which changes neither).
"""

from statistics import NormalDist

import numpy as np
import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.index.validity import VALIDITY_SCHEMA, _row
from assets.indicators.build import financial_years
from assets.indicators.framework import PERFORMANCE_SOURCE, Framework

ENGAGEMENT = "staff_engagement"
PEOPLE_PROMISE = [f"PP{k}" for k in range(1, 8)]
AGREEMENT_LEVEL = 0.9
MIN_TRUSTS = 10


def official_scores(people_promise_scores: pl.DataFrame) -> pl.DataFrame:
    """org_code, survey_year, engagement (theme score) and people_promise (mean of the seven element scores, only
    where all seven are published)."""
    scores = people_promise_scores.filter(pl.col("score").is_not_null()).with_columns(
        pl.col("survey_year").cast(pl.Int64)
    )
    engagement = scores.filter(pl.col("measure_id") == ENGAGEMENT).select("org_code", "survey_year", engagement="score")
    promise = (
        scores.filter(pl.col("measure_id").is_in(PEOPLE_PROMISE))
        .group_by("org_code", "survey_year")
        .agg(people_promise=pl.col("score").mean(), elements=pl.len())
        .filter(pl.col("elements") == len(PEOPLE_PROMISE))
        .drop("elements")
    )
    return engagement.join(promise, on=["org_code", "survey_year"], how="full", coalesce=True)


def spearman(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float | None, float | None, float | None, int]:
    """(rho, low, high, n) over pairs where both are present; average ranks for ties."""
    both = ~(np.isnan(x) | np.isnan(y))
    n = int(both.sum())
    if n < 4:
        return None, None, None, n
    rx = pl.Series(x[both]).rank("average").to_numpy()
    ry = pl.Series(y[both]).rank("average").to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return None, None, None, n
    rho = float(np.corrcoef(rx, ry)[0, 1])
    if abs(rho) >= 1:
        return rho, None, None, n
    half = NormalDist().inv_cdf(0.5 + level / 2) * np.sqrt((1 + rho**2 / 2) / (n - 3))
    return rho, float(np.tanh(np.arctanh(rho) - half)), float(np.tanh(np.arctanh(rho) + half)), n


def official_score_agreement(index: pl.DataFrame, factor_scores: pl.DataFrame, official: pl.DataFrame) -> pl.DataFrame:
    """Spearman agreement of the index (ranked trusts) and each factor with the two official scores."""
    keys = ["org_code", "survey_year"]
    ranked = index.filter("ranked").select(
        *keys, "benchmarking_group", subject=pl.lit("readiness_index"), x="index_score"
    )
    factors = factor_scores.join(index.filter("ranked").select(keys), on=keys).select(
        *keys, "benchmarking_group", subject=pl.format("factor_{}", "factor_id"), x="score"
    )
    joined = pl.concat([ranked, factors]).join(official, on=keys)
    rows = []
    for (year, group, subject), part in joined.group_by("survey_year", "benchmarking_group", "subject"):
        for official_name, label in (("engagement", ENGAGEMENT), ("people_promise", "people_promise_mean")):
            rho, low, high, n = spearman(
                part["x"].cast(pl.Float64).to_numpy(), part[official_name].cast(pl.Float64).to_numpy(), AGREEMENT_LEVEL
            )
            rows.append(
                _row(
                    validity_check="official_score_agreement",
                    period=str(year),
                    subject=f"{subject} | {group}",
                    subject_b=label,
                    statistic="spearman_rho",
                    estimate=rho,
                    ci_lo=low,
                    ci_hi=high,
                    ci_level=AGREEMENT_LEVEL,
                    n=n,
                    expected_sign=1,
                    note=(
                        f"within {group}, ranked trusts; "
                        + (
                            "official staff engagement theme score"
                            if label == ENGAGEMENT
                            else "mean of the seven People Promise element scores"
                        )
                        + ("; not estimable: fewer than 4 trusts" if rho is None else "")
                    ),
                )
            )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def _r2(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """R^2 of least squares of y (B, n) on [1, x] (B, n, k), vectorised over bootstrap samples B."""
    design = np.concatenate([np.ones((*x.shape[:2], 1)), x], axis=2)
    beta = np.linalg.pinv(design) @ y[..., None]
    residual = y - (design @ beta)[..., 0]
    centred = y - y.mean(axis=1, keepdims=True)
    return 1 - (residual**2).sum(axis=1) / (centred**2).sum(axis=1)


def incremental(y: np.ndarray, index: np.ndarray, engagement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(partial r(Y, I | E), delta R^2) for (B, n) samples."""
    r2_e = _r2(y, engagement[..., None])
    r2_ei = _r2(y, np.stack([engagement, index], axis=2))
    delta = r2_ei - r2_e
    # partial correlation from the residuals of Y and I on E
    design = np.stack([np.ones_like(engagement), engagement], axis=2)
    projector = np.linalg.pinv(design)
    ry = y - (design @ (projector @ y[..., None]))[..., 0]
    ri = index - (design @ (projector @ index[..., None]))[..., 0]
    partial = (ry * ri).sum(axis=1) / np.sqrt((ry**2).sum(axis=1) * (ri**2).sum(axis=1))
    return partial, delta


def incremental_validity(
    indicators: pl.DataFrame,
    framework: Framework,
    performance_annual: pl.DataFrame,
    official: pl.DataFrame,
) -> pl.DataFrame:
    settings = framework.settings
    draws = settings.bootstrap_draws
    tail = (1 - AGREEMENT_LEVEL) / 2
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 14]))
    ranked = aggregate_index(score_factors(indicators, framework), framework).filter("ranked")
    outcomes = financial_years(performance_annual, framework)
    rows = []
    for outcome in framework.outcomes.iter_rows(named=True):
        measure = outcome["measure"]
        overlap = framework.indicators.filter(
            (pl.col("source") == PERFORMANCE_SOURCE) & (pl.col("measure") == measure)
        )["indicator_id"].to_list()
        subset = framework.with_indicators(framework.indicators.filter(~pl.col("indicator_id").is_in(overlap)))
        index = aggregate_index(
            score_factors(indicators.filter(~pl.col("indicator_id").is_in(overlap)), subset), subset
        ).join(ranked.select("org_code", "survey_year"), on=["org_code", "survey_year"])
        subject = "readiness_index_without_outcome" if overlap else "readiness_index"
        data = (
            index.join(official, on=["org_code", "survey_year"])
            .join(
                outcomes.filter(pl.col("measure") == measure).select("org_code", "survey_year", y="value"),
                on=["org_code", "survey_year"],
            )
            .drop_nulls(["index_score", "engagement", "y"])
            .sort("org_code")
        )
        # a fixed order of groups, so the bootstrap draws (one stream for all) are the same on every build
        for (year, group), part in sorted(data.group_by("survey_year", "benchmarking_group"), key=lambda g: g[0]):
            n = part.height
            if n < MIN_TRUSTS:
                continue
            y, i, e = (part[c].cast(pl.Float64).to_numpy() for c in ("y", "index_score", "engagement"))
            point_partial, point_delta = incremental(y[None], i[None], e[None])
            sample = rng.integers(0, n, size=(draws, n))
            boot_partial, boot_delta = incremental(y[sample], i[sample], e[sample])
            for statistic, point, boot in (
                ("partial_r_given_engagement", point_partial[0], boot_partial),
                ("delta_r2_beyond_engagement", point_delta[0], boot_delta),
            ):
                rows.append(
                    _row(
                        validity_check="incremental_validity",
                        period=str(year),
                        subject=f"{subject} | {group}",
                        subject_b=measure,
                        statistic=statistic,
                        estimate=float(point),
                        ci_lo=float(np.nanquantile(boot, tail)),
                        ci_hi=float(np.nanquantile(boot, 1 - tail)),
                        ci_level=AGREEMENT_LEVEL,
                        n=n,
                        expected_sign=outcome["expected_sign"] if statistic.startswith("partial") else None,
                        note=(
                            f"within {group}, ranked trusts with the outcome; beyond the official staff engagement "
                            f"score; interval from {draws} trust bootstrap samples"
                        ),
                    )
                )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)
