"""Validity evidence published beside the index (index_validity):

- internal consistency: Cronbach's alpha of each factor's normalised indicators across trusts (complete cases);
- distinctness: the correlation matrix of factor scores, flagging pairs at or above `redundancy_threshold`;
- association with outcomes (outcomes.csv: sickness absence, A&E 4-hour, RTT 18-week) for the ranked trusts, the
  outcome normalised within group and year like the indicators. Where an outcome is also an indicator of the index
  (sickness absence in factor 6, A&E and RTT in factor 3) the association would be circular, so it is computed
  against the index rebuilt without that indicator, and the row says so. A year without outcome data for its
  financial year is reported as not estimable (n = 0) with the reason, never estimated;
- published evidence: the engagement-mortality (SHMI) model of Badgett et al. (2020) re-estimated on the real
  2012-2019 acute-trust panel, beside the published coefficient (the specifications and the citation are rows of
  data/framework/published_evidence.csv), with the panel's cross-sectional correlations for context.
Intervals: Fisher z for correlations of one year; trust-clustered bootstrap for panel estimates, because the same
trusts recur across years.
"""

from pathlib import Path
from statistics import NormalDist

import numpy as np
import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.indicators.build import financial_years, normalise
from assets.indicators.framework import PERFORMANCE_SOURCE, Framework
from pipeline import dictionary
from pipeline.errors import InputDataError

# the columns and types of index_validity, from its data dictionary entry
VALIDITY_SCHEMA = dictionary.table("index_validity").polars_schema()
# data.NHS.2012_2019.csv (ebmgt/NHS-wellbeing) columns, checked against the real file (docs/methodology.md §10.2)
PANEL_COLUMNS = {
    "Code": "org_code",
    "Year.Index": "year",
    "Engagement.Index": "engagement",
    "SHMI.Index": "shmi",
    "SHMI.before": "shmi_before",
    "Responses": "responses",
    "Survey.clinical.proportion": "clinical_proportion",
}


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
    # a barrier's own indicators (barrier_indicators.csv) belong to no factor
    factor_indicators = framework.indicators.filter(pl.col("factor_id").is_not_null())
    scored = indicators.filter(pl.col("norm_score").is_not_null()).join(
        factor_indicators.select("indicator_id", "factor_id"), on="indicator_id"
    )
    for (year, factor), part in scored.group_by("survey_year", "factor_id"):
        wide = part.pivot(on="indicator_id", index="org_code", values="norm_score")
        matrix = wide.drop("org_code").to_numpy().astype(float)
        complete = int((~np.isnan(matrix).any(axis=1)).sum())
        k = matrix.shape[1]
        rows.append(
            _row(
                validity_check="internal_consistency",
                period=str(year),
                subject=f"factor_{factor}",
                statistic="cronbach_alpha",
                estimate=cronbach_alpha(matrix),
                n=complete,
                note=f"{k} indicators; trusts with every one of them (complete cases)"
                if k > 1
                else "not estimable: the factor has one indicator with data this year, and alpha needs two",
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
                        validity_check="factor_correlation",
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


def _financial_year_label(survey_year: int, framework: Framework) -> str:
    start = survey_year + framework.settings.financial_year_offset
    return f"{start}-{(start + 1) % 100:02d}"


def outcome_associations(
    indicators: pl.DataFrame, framework: Framework, performance_annual: pl.DataFrame
) -> pl.DataFrame:
    """Pearson r between the index of ranked trusts and each outcome normalised within group and year, one row
    per outcome and survey year; the index leaves out any indicator that is the outcome itself."""
    settings = framework.settings
    level = settings.validity_interval_level
    published = aggregate_index(score_factors(indicators, framework), framework)
    ranked = published.filter("ranked").select("org_code", "survey_year")
    usable = financial_years(performance_annual, framework)
    years = sorted(indicators["survey_year"].unique().to_list())
    rows = []
    for outcome in framework.outcomes.iter_rows(named=True):
        measure = outcome["measure"]
        overlap = framework.indicators.filter(
            (pl.col("source") == PERFORMANCE_SOURCE) & (pl.col("measure") == measure)
        )["indicator_id"].to_list()
        if overlap:
            subset = framework.with_indicators(framework.indicators.filter(~pl.col("indicator_id").is_in(overlap)))
            index = aggregate_index(
                score_factors(indicators.filter(~pl.col("indicator_id").is_in(overlap)), subset), subset
            )
            subject = "readiness_index_without_outcome"
            how = (
                f"{measure} is also indicator {', '.join(overlap)} of the index, so the association is computed "
                "against the index rebuilt without it (the published index would be circular)"
            )
        else:
            index, subject, how = published, "readiness_index", None
        values = index.join(ranked, on=["org_code", "survey_year"]).select(
            "org_code", "survey_year", "benchmarking_group", "index_score"
        )
        outcome_values = usable.filter(pl.col("measure") == measure).select(
            "org_code", "survey_year", raw_value="value"
        )
        held = sorted(performance_annual.filter(pl.col("measure") == measure)["financial_year"].unique().to_list())
        for year in years:
            trusts = values.filter(pl.col("survey_year") == year)
            r, n, reason = None, 0, None
            if trusts.is_empty():
                reason = (
                    f"not estimable: no trust is ranked in survey year {year} "
                    f"(index coverage below {settings.min_index_coverage})"
                )
            elif outcome_values.filter(pl.col("survey_year") == year).is_empty():
                reason = (
                    f"not estimable: performance_annual has no {measure} for financial year "
                    f"{_financial_year_label(year, framework)} with {settings.min_months_covered} months "
                    f"(it holds {', '.join(held) or 'no financial year'})"
                )
            else:
                joined = normalise(
                    trusts.join(outcome_values, on=["org_code", "survey_year"], how="left").with_columns(
                        orientation=pl.lit(1), indicator_id=pl.lit(measure)
                    ),
                    "zscore",
                    settings.min_peers,
                )
                r, n = pearson(joined["index_score"].to_numpy(), joined["norm_score"].cast(pl.Float64).to_numpy())
                if r is None:
                    reason = f"not estimable: only {n} ranked trusts have the outcome"
            low, high = fisher_interval(r, n, level)
            rows.append(
                _row(
                    validity_check="outcome_association",
                    period=str(year),
                    subject=subject,
                    subject_b=measure,
                    statistic="pearson_r",
                    estimate=r,
                    ci_lo=low,
                    ci_hi=high,
                    ci_level=level,
                    n=n,
                    expected_sign=outcome["expected_sign"],
                    note="; ".join(filter(None, [reason, how])) or None,
                )
            )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def read_engagement_panel(path: Path) -> pl.DataFrame:
    """The ebmgt 2012-2019 acute-trust panel (`NA` = missing), columns renamed as PANEL_COLUMNS says."""
    raw = pl.read_csv(path, infer_schema=False, null_values=["NA"])
    for column in PANEL_COLUMNS:
        if column not in raw.columns:
            raise InputDataError("required column is missing from the header", file=path, row=1, column=column)
    frame = raw.select(PANEL_COLUMNS.keys()).with_row_index("row", offset=2)
    for column in list(PANEL_COLUMNS)[1:]:
        bad = frame.filter(pl.col(column).is_not_null() & pl.col(column).cast(pl.Float64, strict=False).is_null())
        if bad.height:
            first = bad.row(0, named=True)
            raise InputDataError(f"{first[column]!r} is not a number", file=path, row=first["row"], column=column)
    return (
        frame.select(
            *(
                pl.col(source).cast(pl.Float64).alias(name)
                for source, name in PANEL_COLUMNS.items()
                if name != "org_code"
            ),
            org_code=pl.col("Code"),
        )
        .select("org_code", pl.all().exclude("org_code"))
        .with_columns(pl.col("year").cast(pl.Int64))
    )


def _pooled_correlation(sums: np.ndarray) -> np.ndarray:
    """Pearson r from summed (n, sx, sy, sxx, syy, sxy), vectorised over leading axes."""
    n, sx, sy, sxx, syy, sxy = np.moveaxis(sums, -1, 0)
    return (n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2))


def _cluster_draws(trusts: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, trusts) how often each trust is drawn in each trust-clustered bootstrap sample."""
    return rng.multinomial(trusts, np.full(trusts, 1.0 / trusts), size=draws)


def _correlations(complete: pl.DataFrame, framework: Framework, rng: np.random.Generator) -> list[dict[str, object]]:
    """Engagement against SHMI: each year's cross-section (Fisher interval) and all years pooled (trust-clustered
    bootstrap), for context beside the regression."""
    level = framework.settings.validity_interval_level
    rows = []
    for (year,), part in complete.group_by("year"):
        r, n = pearson(part["engagement"].to_numpy(), part["shmi"].to_numpy())
        low, high = fisher_interval(r, n, level)
        rows.append(
            _row(
                validity_check="engagement_shmi",
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
    sums = (
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
        .drop("org_code")
        .to_numpy()
    )
    boot = _pooled_correlation(_cluster_draws(sums.shape[0], framework.settings.bootstrap_draws, rng) @ sums)
    tail = (1 - level) / 2
    rows.append(
        _row(
            validity_check="engagement_shmi",
            period=f"{complete['year'].min()}-{complete['year'].max()}",
            subject="engagement_index",
            subject_b="shmi",
            statistic="pearson_r",
            estimate=float(_pooled_correlation(sums.sum(axis=0))),
            ci_lo=float(np.quantile(boot, tail)),
            ci_hi=float(np.quantile(boot, 1 - tail)),
            ci_level=level,
            n=complete.height,
            expected_sign=-1,
            note=(
                f"all trust-years pooled ({sums.shape[0]} trusts), without adjustment for prior SHMI; interval from a "
                "trust-clustered bootstrap"
            ),
        )
    )
    return rows


def prior_adjusted_beta(
    panel: pl.DataFrame,
    year_from: int,
    year_to: int,
    weighted: bool,
    draws: int,
    rng: np.random.Generator,
    level: float,
) -> dict[str, float | int]:
    """Least squares of SHMI on engagement and prior-year SHMI (SHMI.Index ~ Engagement.Index + SHMI.before),
    weighted by clinical respondents (Responses x Survey.clinical.proportion) or not, over trust-years with every
    value: the engagement coefficient, a trust-clustered bootstrap interval, the conventional standard error and its
    two-sided normal p-value, and the numbers of trust-years and trusts."""
    needed = ["shmi", "engagement", "shmi_before"] + (["responses", "clinical_proportion"] if weighted else [])
    rows = panel.filter(pl.col("year").is_between(year_from, year_to)).drop_nulls(needed)
    weight = pl.col("responses") * pl.col("clinical_proportion") if weighted else pl.lit(1.0)
    rows = rows.with_columns(w=weight).sort("org_code", "year")
    x = np.column_stack([np.ones(rows.height), rows["engagement"].to_numpy(), rows["shmi_before"].to_numpy()])
    y, w = rows["shmi"].to_numpy(), rows["w"].to_numpy()
    # per-trust sufficient statistics: X'WX (3 x 3) and X'Wy (3), so a bootstrap sample is a weighted sum of them
    trust = rows["org_code"].rank("dense").cast(pl.Int64).to_numpy() - 1
    trusts = int(trust.max()) + 1
    xwx = np.zeros((trusts, 3, 3))
    xwy = np.zeros((trusts, 3))
    np.add.at(xwx, trust, (w[:, None, None] * x[:, :, None] * x[:, None, :]))
    np.add.at(xwy, trust, w[:, None] * x * y[:, None])
    beta = np.linalg.solve(xwx.sum(axis=0), xwy.sum(axis=0))
    residual = y - x @ beta
    sigma2 = float((w * residual**2).sum() / (rows.height - 3))
    se = float(np.sqrt(sigma2 * np.linalg.inv(xwx.sum(axis=0))[1, 1]))
    counts = _cluster_draws(trusts, draws, rng).astype(float)
    matrices = np.einsum("dt,tij->dij", counts, xwx)
    boot = (np.linalg.pinv(matrices) @ np.einsum("dt,ti->di", counts, xwy)[..., None])[:, 1, 0]
    # a sample drawing too few distinct trusts cannot identify the model; it is left out, not solved
    boot[np.linalg.matrix_rank(matrices) < 3] = np.nan
    tail = (1 - level) / 2
    return {
        "estimate": float(beta[1]),
        "ci_lo": float(np.nanquantile(boot, tail)),
        "ci_hi": float(np.nanquantile(boot, 1 - tail)),
        "se": se,
        "p": 2 * (1 - NormalDist().cdf(abs(beta[1]) / se)),
        "n": rows.height,
        "trusts": trusts,
    }


def engagement_shmi(panel: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """The published engagement-SHMI models of published_evidence.csv re-estimated on the panel, each beside its
    published coefficient and citation, and the panel's engagement-SHMI correlations."""
    settings = framework.settings
    level = settings.validity_interval_level
    complete = panel.filter(pl.col("engagement").is_not_null() & pl.col("shmi").is_not_null())
    rng = np.random.default_rng(np.random.SeedSequence([settings.seed, 2012, 2019]))
    rows = _correlations(complete, framework, rng)
    for spec in framework.published_evidence.filter(pl.col("validity_check") == "engagement_shmi").iter_rows(
        named=True
    ):
        fit = prior_adjusted_beta(
            panel,
            spec["year_from"],
            spec["year_to"],
            spec["weights"] == "clinical_respondents",
            settings.bootstrap_draws,
            rng,
            level,
        )
        published = (
            f"; published beta {spec['published_estimate']} (p = {spec['published_p']})"
            if spec["published_estimate"] is not None
            else ""
        )
        rows.append(
            _row(
                validity_check="engagement_shmi",
                period=spec["period"],
                subject="engagement_index",
                subject_b="shmi",
                statistic=spec["statistic"],
                estimate=fit["estimate"],
                ci_lo=fit["ci_lo"],
                ci_hi=fit["ci_hi"],
                ci_level=level,
                n=fit["n"],
                expected_sign=-1,
                published_estimate=spec["published_estimate"],
                published_source=spec["source"],
                note=(
                    f"SHMI on engagement (1-5 scale) and prior-year SHMI, {fit['n']} trust-years of {fit['trusts']} "
                    f"trusts; interval from a trust-clustered bootstrap; conventional standard error "
                    f"{fit['se']:.4f}, p = {fit['p']:.3f}{published}. {spec['note'] or ''}"
                ).strip(),
            )
        )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def index_validity(
    indicators: pl.DataFrame,
    factor_scores: pl.DataFrame,
    framework: Framework,
    performance_annual: pl.DataFrame,
    engagement_panel: pl.DataFrame,
    people_promise_scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The published index_validity table (one row per check, period, subject pair and statistic); with the
    official People Promise scores, also how far the index is the engagement score (engagement_validity.py)."""
    from assets.index import engagement_validity as ev

    settings = framework.settings
    parts = [
        factor_alphas(indicators, framework),
        factor_correlations(factor_scores, settings.redundancy_threshold, settings.validity_interval_level),
        outcome_associations(indicators, framework, performance_annual),
        engagement_shmi(engagement_panel, framework),
    ]
    if people_promise_scores is not None:
        official = ev.official_scores(people_promise_scores)
        index = aggregate_index(score_factors(indicators, framework), framework)
        parts.append(ev.official_score_agreement(index, factor_scores, official))
        parts.append(ev.incremental_validity(indicators, framework, performance_annual, official))
    return pl.concat(parts).sort("validity_check", "period", "subject", "subject_b", "statistic", nulls_last=True)
