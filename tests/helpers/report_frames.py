"""SYNTHETIC frames shaped like the published contracts, for chart and report tests only.

Every code (Z..), name ("Synthetic ... Trust") and number here is made up: none is NHS data. The values are
chosen by hand so that tests can assert exact results (sort orders, quartiles, limits) worked out below.
"""

from datetime import date

import polars as pl

AMBULANCE = "Ambulance Trusts"
COMMUNITY = "Community Trusts"
YEAR = 2024
YEARS = (2022, 2023, 2024)

FACTOR_NAMES = {
    1: "Committed and respected leadership that engages staff",
    2: "A culture hospitable to, and supportive of, change",
    3: "Management practices that ensure execution and implementation",
    4: "Capabilities and skills to identify and solve problems",
    5: "Data and analytics that measure and communicate impact",
    6: "Resources and support for change",
    7: "An enabling environment which supports and drives change",
}
# a factor's score = the trust's base + this offset + 0.1 per year after 2022, so 7 then 6 are every trust's weakest
FACTOR_OFFSETS = {1: 0.3, 2: 0.2, 3: 0.1, 4: 0.0, 5: -0.1, 6: -0.3, 7: -0.4}
BARRIER_OFFSETS = {"recognition": 0.1, "motivation": 0.2, "headspace": -0.3, "capability": 0.0}

# org_code, name, group, index 2024, lo, hi, rank, rank_lo, rank_hi, n_in_group, coverage, weakest factors,
# weakest barrier, support type (ZA4 is below the minimum coverage: listed, not ranked)
INDEX_2024 = [
    (
        "ZA1",
        "Synthetic Ambulance Trust A",
        AMBULANCE,
        0.62,
        0.35,
        0.88,
        1,
        1,
        2,
        3,
        1.00,
        "7",
        "6",
        "headspace",
        "Type 2",
    ),
    (
        "ZA2",
        "Synthetic Ambulance Trust B",
        AMBULANCE,
        0.10,
        -0.15,
        0.33,
        2,
        1,
        3,
        3,
        0.95,
        "7",
        "6",
        "headspace",
        "Type 2",
    ),
    (
        "ZA3",
        "Synthetic Ambulance Trust C",
        AMBULANCE,
        -0.72,
        -1.01,
        -0.40,
        3,
        2,
        3,
        3,
        0.90,
        "7",
        "6",
        "headspace",
        "Type 2",
    ),
    (
        "ZA4",
        "Synthetic Ambulance Trust D",
        AMBULANCE,
        0.05,
        -0.60,
        0.70,
        None,
        None,
        None,
        3,
        0.40,
        None,
        None,
        None,
        None,
    ),
    (
        "ZC1",
        "Synthetic Community Trust A",
        COMMUNITY,
        0.30,
        0.05,
        0.52,
        1,
        1,
        2,
        3,
        1.00,
        "An enabling environment which supports and drives change",
        "Resources and support for change",
        "motivation",
        "type_3_people_focused",
    ),
    (
        "ZC2",
        "Synthetic Community Trust B",
        COMMUNITY,
        -0.05,
        -0.31,
        0.20,
        2,
        1,
        3,
        3,
        0.85,
        "7",
        "6",
        "headspace",
        "Type 2",
    ),
    (
        "ZC3",
        "Synthetic Community Trust C",
        COMMUNITY,
        -0.25,
        -0.49,
        -0.02,
        3,
        2,
        3,
        3,
        0.80,
        "7",
        "6",
        "recognition",
        "Type 1",
    ),
]
INDEX_COLUMNS = [
    "org_code",
    "org_name",
    "benchmarking_group",
    "index_score",
    "index_lo",
    "index_hi",
    "rank_in_group",
    "rank_lo",
    "rank_hi",
    "n_in_group",
    "coverage",
    "weakest_factor_1",
    "weakest_factor_2",
    "weakest_barrier",
    "suggested_support_type",
]


def readiness_index() -> pl.DataFrame:
    """Three survey years: 2024 as listed, each earlier year 0.1 lower (intervals shifted with it)."""
    latest = pl.DataFrame(INDEX_2024, schema=INDEX_COLUMNS, orient="row")
    years = []
    for year in YEARS:
        shift = 0.1 * (YEAR - year)
        years.append(
            latest.with_columns(
                survey_year=pl.lit(year, pl.Int32),
                index_score=pl.col("index_score") - shift,
                index_lo=pl.col("index_lo") - shift,
                index_hi=pl.col("index_hi") - shift,
            )
        )
    return pl.concat(years).drop("org_name")


def _base_scores() -> dict[str, float]:
    return {row[0]: row[3] for row in INDEX_2024}


def factor_scores() -> pl.DataFrame:
    """Score = trust base + factor offset + 0.1 × (year − 2022) − 0.2, interval ± 0.25; ZA2's factor 5 not measured."""
    rows = []
    for org, base in _base_scores().items():
        for year in YEARS:
            for factor, offset in FACTOR_OFFSETS.items():
                score = round(base + offset + 0.1 * (year - 2022) - 0.2, 4)
                missing = org == "ZA2" and factor == 5
                rows.append(
                    (
                        org,
                        year,
                        factor,
                        FACTOR_NAMES[factor],
                        None if missing else score,
                        None if missing else score - 0.25,
                        None if missing else score + 0.25,
                        0.0 if missing else 1.0,
                    )
                )
    return pl.DataFrame(
        rows,
        schema={
            "org_code": pl.String,
            "survey_year": pl.Int32,
            "factor_id": pl.Int32,
            "factor_name": pl.String,
            "score": pl.Float64,
            "score_lo": pl.Float64,
            "score_hi": pl.Float64,
            "coverage": pl.Float64,
        },
        orient="row",
    )


def barrier_scores() -> pl.DataFrame:
    rows = []
    for org, base in _base_scores().items():
        for year in YEARS:
            for barrier, offset in BARRIER_OFFSETS.items():
                score = round(base + offset + 0.1 * (year - 2022) - 0.2, 4)
                rows.append((org, year, barrier, score, score - 0.3, score + 0.3, 1.0))
    return pl.DataFrame(
        rows,
        schema=["org_code", "survey_year", "barrier", "score", "score_lo", "score_hi", "coverage"],
        orient="row",
    ).with_columns(pl.col("survey_year").cast(pl.Int32))


def survey_organisations() -> pl.DataFrame:
    return pl.DataFrame(
        [
            (row[0], year, row[1], row[2], "Synthetic region", "Synthetic ICS", "Weighted")
            for row in INDEX_2024
            for year in YEARS
        ],
        schema=["org_code", "survey_year", "org_name", "benchmarking_group", "region", "ics", "weighting"],
        orient="row",
    )


def organisations() -> pl.DataFrame:
    return pl.DataFrame(
        [(row[0], row[1].upper(), "trust", row[2]) for row in INDEX_2024],
        schema=["org_code", "org_name", "org_type", "benchmarking_group"],
        orient="row",
    )


# org_code, q12b % unfavourable, base n. Worked by hand for the ambulance group:
# mean = (45×3000 + 35×2000 + 38×150 + 40×2500) / 7650 = 310700 / 7650 = 40.6144 %
# 99.8% limits at n = 3000: 40.6144 ± 3.0902 × √(0.406144 × 0.593856 / 3000) × 100 = 40.6144 ± 2.7708 -> ZA1 above
# at n = 2000: ± 3.3936 -> ZA2 (35.0) below; ZA3 (n = 150, ± 12.392) and ZA4 (n = 2500, ± 3.0353) within
BURNOUT = [("ZA1", 45.0, 3000), ("ZA2", 35.0, 2000), ("ZA3", 38.0, 150), ("ZA4", 40.0, 2500), ("ZC1", 30.0, 900)]


def staff_survey_items() -> pl.DataFrame:
    return pl.DataFrame(
        [(org, YEAR, "q12b", 100 - pct - 20, pct, None, base) for org, pct, base in BURNOUT],
        schema={
            "org_code": pl.String,
            "survey_year": pl.Int32,
            "question_id": pl.String,
            "pct_favourable": pl.Float64,
            "pct_unfavourable": pl.Float64,
            "score_0_10": pl.Float64,
            "base": pl.Int64,
        },
        orient="row",
    )


def performance_measures() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "measure": ["ae_4hr_pct_all", "sickness_absence_pct"],
            "label": ["A&E attendances seen within 4 hours", "Sickness absence rate"],
            "unit": ["% of attendances", "% of FTE days"],
            "improvement_direction": ["increase", "decrease"],
        }
    )


SPC_POINT_TYPES = [
    "common_cause",
    "common_cause",
    "special_cause_concern",
    "common_cause",
    "common_cause",
    "common_cause",
    "special_cause_improvement",
    "special_cause_improvement",
    "common_cause",
    "common_cause",
    "common_cause",
    "special_cause_neutral_high",
]


def spc_monthly() -> pl.DataFrame:
    """ZA1 only: 12 months of two measures, limits constant, point types hand-assigned (not computed)."""
    rows = []
    for measure, mean, width in (("ae_4hr_pct_all", 72.0, 6.0), ("sickness_absence_pct", 5.0, 1.0)):
        for month, point_type in enumerate(SPC_POINT_TYPES, start=1):
            value = mean + width * ((month % 4) - 1.5) / 2
            rows.append(("ZA1", measure, date(2024, month, 1), value, mean, mean - width, mean + width, point_type))
    return pl.DataFrame(
        rows, schema=["org_code", "measure", "period_month", "value", "mean", "lpl", "upl", "point_type"], orient="row"
    )


def index_validity() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Summary (outcome, n, coefficient, interval) and the per-trust points it was fitted on."""
    summary = pl.DataFrame(
        {
            "outcome": ["sickness_absence_pct", "ae_4hr_pct_all"],
            "n": [6, 6],
            "coefficient": [-0.55, 0.31],
            "ci_lo": [-0.92, -0.45],
            "ci_hi": [0.30, 0.85],
        }
    )
    codes = [row[0] for row in INDEX_2024 if row[0] != "ZA4"]
    index = [row[3] for row in INDEX_2024 if row[0] != "ZA4"]
    points = pl.DataFrame(
        {
            "org_code": codes * 2,
            "outcome": ["sickness_absence_pct"] * 6 + ["ae_4hr_pct_all"] * 6,
            "index_score": index * 2,
            "outcome_value": [4.1, 5.0, 6.2, 4.8, 5.3, 5.9, 78.0, 70.5, 66.0, 74.2, 71.0, 69.5],
        }
    )
    return summary, points
