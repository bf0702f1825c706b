"""Validity evidence published beside the index (index_validity):

- internal consistency: Cronbach's alpha of each factor's normalised indicators across trusts (complete cases);
- distinctness: the correlation matrix of factor scores, flagging pairs at or above `redundancy_threshold`;
- association with independent outcomes (outcomes.csv: sickness absence, A&E 4-hour, RTT 18-week), outcome
  normalised within group and year like the indicators, for the published index and for the survey-only index
  (the published index contains those very measures, so only the survey-only association is independent);
- external check: engagement and mortality (SHMI) in the real 2012-2019 acute-trust panel, beside the published
  figure from published_evidence.csv (empty unless a figure has been read from the source).
Intervals: Fisher z for correlations; trust-clustered bootstrap for the pooled panel (years repeat trusts).
"""

from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.indicators.build import financial_year_expr, normalise
from assets.indicators.framework import PERFORMANCE_SOURCE, Framework
from pipeline.errors import InputDataError

VALIDITY_SCHEMA = {
    "check": pl.String,
    "period": pl.String,
    "subject": pl.String,
    "subject_b": pl.String,
    "statistic": pl.String,
    "estimate": pl.Float64,
    "ci_lo": pl.Float64,
    "ci_hi": pl.Float64,
    "ci_level": pl.Float64,
    "n": pl.Int64,
    "expected_sign": pl.Int64,
    "published_estimate": pl.Float64,
    "note": pl.String,
}
PANEL_COLUMNS = {"Code": "org_code", "Year.Index": "year", "Engagement.Index": "engagement", "SHMI.Index": "shmi"}


def cronbach_alpha(items: np.ndarray) -> float | None:
    """Alpha of an (n respondents-or-trusts, k items) matrix, complete rows only: k/(k-1) (1 - sum var_i / var_sum)."""
    complete = items[~np.isnan(items).any(axis=1)]
    n, k = complete.shape
    if k < 2 or n < 3:
        return None
    total_variance = complete.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return None
    return float(k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total_variance))


def pearson(x: np.ndarray, y: np.ndarray) -> tuple[float | None, int]:
    """Pearson r over pairs where both are present, and that number of pairs."""
    both = ~(np.isnan(x) | np.isnan(y))
    n = int(both.sum())
    if n < 3 or x[both].std() == 0 or y[both].std() == 0:
        return None, n
    return float(np.corrcoef(x[both], y[both])[0, 1]), n


def fisher_interval(r: float | None, n: int, level: float) -> tuple[float | None, float | None]:
    """Interval for a correlation from the Fisher z transform: tanh(atanh(r) -+ z_(1+level)/2 / sqrt(n - 3))."""
    if r is None or n <= 3 or abs(r) >= 1:
        return None, None
    half_width = NormalDist().inv_cdf(0.5 + level / 2) / np.sqrt(n - 3)
    return float(np.tanh(np.arctanh(r) - half_width)), float(np.tanh(np.arctanh(r) + half_width))


def _row(**values: object) -> dict[str, object]:
    return {column: values.get(column) for column in VALIDITY_SCHEMA}


def factor_alphas(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    rows = []
    scored = indicators.filter(pl.col("norm_score").is_not_null()).join(
        framework.indicators.select("indicator_id", "factor_id"), on="indicator_id"
    )
    for (year, factor), part in scored.group_by("survey_year", "factor_id"):
        wide = part.pivot(on="indicator_id", index="org_code", values="norm_score")
        matrix = wide.drop("org_code").to_numpy().astype(float)
        complete = int((~np.isnan(matrix).any(axis=1)).sum())
        rows.append(
            _row(
                check="internal_consistency",
                period=str(year),
                subject=f"factor_{factor}",
                statistic="cronbach_alpha",
                estimate=cronbach_alpha(matrix),
                n=complete,
                note=f"{matrix.shape[1]} indicators; trusts with every one of them (complete cases)",
            )
        )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def factor_correlations(factor_scores: pl.DataFrame, threshold: float, level: float) -> pl.DataFrame:
    rows = []
    for (year,), part in factor_scores.group_by("survey_year"):
        wide = part.pivot(on="factor_id", index="org_code", values="score")
        factors = sorted(int(c) for c in wide.columns if c != "org_code")
        for position, a in enumerate(factors):
            for b in factors[position + 1 :]:
                r, n = pearson(wide[str(a)].to_numpy().astype(float), wide[str(b)].to_numpy().astype(float))
                low, high = fisher_interval(r, n, level)
                redundant = r is not None and r >= threshold
                rows.append(
                    _row(
                        check="factor_correlation",
                        period=str(year),
                        subject=f"factor_{a}",
                        subject_b=f"factor_{b}",
                        statistic="pearson_r",
                        estimate=r,
                        ci_lo=low,
                        ci_hi=high,
                        ci_level=level,
                        n=n,
                        note=f"r >= {threshold}: the two factors measure the same thing" if redundant else None,
                    )
                )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def _ranked_index(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    return aggregate_index(score_factors(indicators, framework), framework).filter("ranked")


def outcome_associations(
    indicators: pl.DataFrame, framework: Framework, performance_annual: pl.DataFrame
) -> pl.DataFrame:
    """Pearson r between the index of ranked trusts and each outcome normalised within group and year."""
    settings = framework.settings
    survey_framework = framework.with_indicators(framework.indicators.filter(pl.col("source") != PERFORMANCE_SOURCE))
    survey_indicators = indicators.filter(pl.col("source") != PERFORMANCE_SOURCE)
    variants = {
        "readiness_index": _ranked_index(indicators, framework),
        "survey_only_index": _ranked_index(survey_indicators, survey_framework),
    }
    in_index = set(framework.indicators["measure"].drop_nulls().to_list())
    rows = []
    for outcome in framework.outcomes.iter_rows(named=True):
        measure = outcome["measure"]
        for variant, index in variants.items():
            values = (
                index.with_columns(
                    financial_year=financial_year_expr(pl.col("survey_year"), settings.financial_year_offset)
                )
                .join(
                    performance_annual.filter(pl.col("measure") == measure).select(
                        "org_code", "financial_year", raw_value="value"
                    ),
                    on=["org_code", "financial_year"],
                    how="left",
                )
                .with_columns(orientation=pl.lit(1), indicator_id=pl.lit(measure))
            )
            values = normalise(values, "zscore", settings.min_peers)
            for (year,), part in values.group_by("survey_year"):
                r, n = pearson(part["index_score"].to_numpy(), part["norm_score"].cast(pl.Float64).to_numpy())
                low, high = fisher_interval(r, n, settings.validity_interval_level)
                circular = variant == "readiness_index" and measure in in_index
                rows.append(
                    _row(
                        check="outcome_association",
                        period=str(year),
                        subject=variant,
                        subject_b=measure,
                        statistic="pearson_r",
                        estimate=r,
                        ci_lo=low,
                        ci_hi=high,
                        ci_level=settings.validity_interval_level,
                        n=n,
                        expected_sign=outcome["expected_sign"],
                        note="not independent: the outcome is also an indicator of this index" if circular else None,
                    )
                )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def read_engagement_panel(path: Path) -> pl.DataFrame:
    """(org_code, year, engagement, shmi) from the ebmgt 2012-2019 acute-trust panel (`NA` = missing)."""
    raw = pl.read_csv(path, infer_schema=False, null_values=["NA"])
    for column in PANEL_COLUMNS:
        if column not in raw.columns:
            raise InputDataError("required column is missing from the header", file=path, row=1, column=column)
    frame = raw.select(PANEL_COLUMNS.keys()).with_row_index("row", offset=2)
    for column in ("Year.Index", "Engagement.Index", "SHMI.Index"):
        bad = frame.filter(pl.col(column).is_not_null() & pl.col(column).cast(pl.Float64, strict=False).is_null())
        if bad.height:
            first = bad.row(0, named=True)
            raise InputDataError(f"{first[column]!r} is not a number", file=path, row=first["row"], column=column)
    return frame.select(
        org_code=pl.col("Code"),
        year=pl.col("Year.Index").cast(pl.Int64),
        engagement=pl.col("Engagement.Index").cast(pl.Float64),
        shmi=pl.col("SHMI.Index").cast(pl.Float64),
    )


def _pooled_statistics(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r and OLS slope of y on x from summed (n, sx, sy, sxx, syy, sxy), vectorised over leading axes."""
    n, sx, sy, sxx, syy, sxy = np.moveaxis(sums, -1, 0)
    covariance = n * sxy - sx * sy
    variance_x, variance_y = n * sxx - sx**2, n * syy - sy**2
    return covariance / np.sqrt(variance_x * variance_y), covariance / variance_x


def engagement_shmi(panel: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Engagement (1-5) against SHMI: each year's cross-section (Fisher interval) and all years pooled
    (r and the SHMI change per engagement point, with a trust-clustered bootstrap interval)."""
    settings = framework.settings
    level = settings.validity_interval_level
    complete = panel.filter(pl.col("engagement").is_not_null() & pl.col("shmi").is_not_null())
    years = complete["year"]
    period = f"{years.min()}-{years.max()}"
    published = framework.published_evidence.filter(pl.col("check") == "engagement_shmi")
    published_r = published.filter(pl.col("statistic") == "pearson_r")
    published_note = published_r["note"].item() if published_r.height else None
    published_value = published_r["published_estimate"].item() if published_r.height else None
    rows = []
    for (year,), part in complete.group_by("year"):
        r, n = pearson(part["engagement"].to_numpy(), part["shmi"].to_numpy())
        low, high = fisher_interval(r, n, level)
        rows.append(
            _row(
                check="engagement_shmi",
                period=str(year),
                subject="engagement_index",
                subject_b="shmi",
                statistic="pearson_r",
                estimate=r,
                ci_lo=low,
                ci_hi=high,
                ci_level=level,
                n=n,
                expected_sign=-1,
                note="one year's acute trusts (cross-section)",
            )
        )
    per_trust = (
        complete.group_by("org_code")
        .agg(
            n=pl.len().cast(pl.Float64),
            sx=pl.col("engagement").sum(),
            sy=pl.col("shmi").sum(),
            sxx=(pl.col("engagement") ** 2).sum(),
            syy=(pl.col("shmi") ** 2).sum(),
            sxy=(pl.col("engagement") * pl.col("shmi")).sum(),
        )
        .sort("org_code")
    )
    sums = per_trust.drop("org_code").to_numpy()
    r, slope = _pooled_statistics(sums.sum(axis=0))
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, years.min(), years.max()]))
    trusts = sums.shape[0]
    resampled = rng.multinomial(trusts, np.full(trusts, 1.0 / trusts), size=settings.bootstrap_draws) @ sums
    boot_r, boot_slope = _pooled_statistics(resampled)
    tail = (1 - level) / 2
    for statistic, estimate, boot, expected, note, published_estimate in (
        ("pearson_r", r, boot_r, -1, published_note, published_value),
        ("slope_shmi_per_engagement_point", slope, boot_slope, -1, "SHMI change per point of the 1-5 scale", None),
    ):
        rows.append(
            _row(
                check="engagement_shmi",
                period=period,
                subject="engagement_index",
                subject_b="shmi",
                statistic=statistic,
                estimate=float(estimate),
                ci_lo=float(np.quantile(boot, tail)),
                ci_hi=float(np.quantile(boot, 1 - tail)),
                ci_level=level,
                n=complete.height,
                expected_sign=expected,
                published_estimate=published_estimate,
                note=f"all trust-years pooled ({trusts} trusts); interval from a trust-clustered bootstrap"
                + (f". {note}" if note else ""),
            )
        )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def index_validity(
    indicators: pl.DataFrame,
    factor_scores: pl.DataFrame,
    framework: Framework,
    performance_annual: pl.DataFrame,
    engagement_panel: pl.DataFrame,
) -> pl.DataFrame:
    """The published index_validity table (one row per check, period, subject pair and statistic)."""
    settings = framework.settings
    return pl.concat(
        [
            factor_alphas(indicators, framework),
            factor_correlations(factor_scores, settings.redundancy_threshold, settings.validity_interval_level),
            outcome_associations(indicators, framework, performance_annual),
            engagement_shmi(engagement_panel, framework),
        ]
    ).sort("check", "period", "subject", "subject_b", "statistic", nulls_last=True)
