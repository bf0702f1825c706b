"""Prospective validity and the Oversight Framework beside the index (pure Polars; issue 15).

Does the autumn-survey index foretell later outcomes it does not contain? Within the acute benchmarking group, the
index is set against the NHS Oversight Framework 2025/26 domain scores other than people and workforce (which holds
the engagement score), SHMI 2025, the inpatient Friends and Family Test and complaints per 1000 spells, from
trust_context: Spearman's rho, and the partial Spearman correlation given the staff engagement theme score (so the
association is not just engagement's), each with a Fisher-z interval. Rows have index_validity's columns.

The Oversight Framework segment is shown beside the index (`index_beside_oversight`), never inside it: its people
domain contains the staff engagement score the index is largely built from.
"""

import math
from statistics import NormalDist

import polars as pl

from assets.index.validity import VALIDITY_SCHEMA

ACUTE_GROUP = "Acute and Acute & Community Trusts"
CHECK = "prospective_outcome"
# NOF scores run from 1 (best) to 4, SHMI and complaints are lower-better: a valid index correlates negatively
OUTCOMES = {
    "nof_domain_score_access": -1,
    "nof_domain_score_effectiveness_experience": -1,
    "nof_domain_score_finance_productivity": -1,
    "nof_domain_score_patient_safety": -1,
    "shmi": -1,
    "fft_positive_3m_mean": 1,
    "complaints_per_1000_spells": -1,
}
CIRCULAR = {
    "nof_domain_score_finance_productivity": "the index contains the planned surplus/deficit, one of this domain's "
    "metrics, so part of the association is the same number on both sides",
    "nof_domain_score_access": "the domain scores A&E 4-hour, RTT and cancer waits, which the index also holds "
    "(factor 3), for an overlapping period",
    "nof_domain_score_patient_safety": "the domain includes the 2024 staff survey raising-concerns score "
    "(staff_raising_concerns_score), which shares questions with the index's culture factor",
}
BESIDE_COLUMNS = (
    "nof_segment",
    "nof_average_metric_score",
    "nof_domain_score_people_workforce",
    "league_rank",
    "league_segment",
)


def with_context_code(frame: pl.DataFrame, sectors: pl.DataFrame) -> pl.DataFrame:
    """Add `context_code`: the code trust_context uses for each survey code (R1F for R1F1, by reporting_sectors.csv)."""
    inherit = sectors.filter(pl.col("inherits_datasets").fill_null("").str.contains("trust_context")).select(
        org_code="sector_code", context_code="legal_org_code"
    )
    return frame.join(inherit, on="org_code", how="left").with_columns(
        context_code=pl.coalesce("context_code", "org_code")
    )


def _ranks(values: list[float]) -> list[float]:
    return pl.Series(values).rank("average").cast(pl.Float64).to_list()


def _pearson(x: list[float], y: list[float]) -> float:
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def fisher_interval(r: float, n: int, controls: int, level: float) -> tuple[float | None, float | None]:
    """Fisher-z interval for a Spearman (partial) correlation, with the Bonett-Wright variance 1.06 / (n - 3 - k)."""
    if n - 3 - controls <= 0 or not -1 < r < 1:
        return None, None
    z = math.atanh(r)
    half = NormalDist().inv_cdf(0.5 + level / 2) * math.sqrt(1.06 / (n - 3 - controls))
    return math.tanh(z - half), math.tanh(z + half)


def spearman(x: list[float], y: list[float]) -> float:
    return _pearson(_ranks(x), _ranks(y))


def partial_spearman(x: list[float], y: list[float], z: list[float]) -> float:
    """Spearman correlation of x and y given z: the partial correlation of their ranks."""
    rx, ry, rz = _ranks(x), _ranks(y), _ranks(z)
    rxy, rxz, ryz = _pearson(rx, ry), _pearson(rx, rz), _pearson(ry, rz)
    return (rxy - rxz * ryz) / math.sqrt((1 - rxz**2) * (1 - ryz**2))


def prospective_validity(
    readiness_index: pl.DataFrame,
    engagement: pl.DataFrame,
    trust_context: pl.DataFrame,
    sectors: pl.DataFrame,
    survey_year: int,
    level: float,
) -> pl.DataFrame:
    """index_validity-shaped rows: per later outcome, Spearman's rho and the partial rho given engagement.

    `engagement` has (org_code, survey_year, engagement): the official staff engagement theme score."""
    index = with_context_code(
        readiness_index.filter(
            (pl.col("survey_year") == survey_year)
            & (pl.col("benchmarking_group") == ACUTE_GROUP)
            & pl.col("index_score").is_not_null()
        ).select("org_code", "index_score"),
        sectors,
    ).join(engagement.filter(pl.col("survey_year") == survey_year).select("org_code", "engagement"), on="org_code")
    rows: list[dict[str, object]] = []
    for measure, sign in OUTCOMES.items():
        outcome = trust_context.filter(pl.col("measure") == measure).select(
            context_code="org_code", outcome="value", outcome_period="period"
        )
        data = (
            index.join(outcome, on="context_code")
            .drop_nulls(["index_score", "engagement", "outcome"])
            .sort("org_code")  # a fixed order, so float sums and the published bytes repeat exactly
        )
        n = data.height
        periods = ", ".join(sorted(set(data["outcome_period"].to_list()))) or "none"
        x, y, z = data["index_score"].to_list(), data["outcome"].to_list(), data["engagement"].to_list()
        base = f"autumn-{survey_year} index against {measure} ({periods}), acute trusts with both; " + (
            f"circular: {CIRCULAR[measure]}; " if measure in CIRCULAR else ""
        )
        for statistic, controls in (("spearman_rho", 0), ("partial_spearman_given_engagement", 1)):
            estimable = n - 3 - controls > 0
            estimate = None
            if estimable:
                value = spearman(x, y) if controls == 0 else partial_spearman(x, y, z)
                estimate = None if math.isnan(value) else round(value, 12)
            lo, hi = fisher_interval(estimate, n, controls, level) if estimate is not None else (None, None)
            rows.append(
                {
                    "validity_check": CHECK,
                    "period": str(survey_year),
                    "subject": "readiness_index",
                    "subject_b": measure,
                    "statistic": statistic,
                    "estimate": estimate,
                    "ci_lo": None if lo is None else round(lo, 12),
                    "ci_hi": None if hi is None else round(hi, 12),
                    "ci_level": level,
                    "n": n,
                    "expected_sign": sign,
                    "published_estimate": None,
                    "note": base
                    + (
                        "partial correlation of ranks given the 2024 staff engagement theme score"
                        if controls
                        else "rank correlation"
                    )
                    + ("" if estimable else "; not estimable (too few trusts)"),
                    "published_source": None,
                }
            )
    return pl.DataFrame(rows, schema=VALIDITY_SCHEMA)


def index_beside_oversight(
    readiness_index: pl.DataFrame, trust_context: pl.DataFrame, sectors: pl.DataFrame
) -> pl.DataFrame:
    """Each trust's index beside its NHS Oversight Framework 2025/26 segment, scores and league position."""
    wide = (
        trust_context.filter(pl.col("measure").is_in(BESIDE_COLUMNS))
        .pivot(on="measure", index="org_code", values="value")
        .rename({"org_code": "context_code"})
    )
    for column in BESIDE_COLUMNS:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    period = trust_context.filter(pl.col("measure") == "nof_segment")["period"].unique().to_list()
    return (
        with_context_code(
            readiness_index.select(
                "org_code", "survey_year", "benchmarking_group", "index_score", "rank_in_group", "n_in_group", "ranked"
            ),
            sectors,
        )
        .join(wide, on="context_code", how="left")
        .select(
            "org_code",
            "survey_year",
            "benchmarking_group",
            "index_score",
            "rank_in_group",
            "n_in_group",
            "ranked",
            pl.col("context_code").alias("oversight_org_code"),
            pl.col("nof_segment").cast(pl.Int64),
            "nof_average_metric_score",
            "nof_domain_score_people_workforce",
            pl.col("league_rank").cast(pl.Int64),
            pl.col("league_segment").cast(pl.Int64),
            oversight_period=pl.lit(period[0] if len(period) == 1 else None, dtype=pl.String),
        )
        .sort("survey_year", "org_code")
    )
