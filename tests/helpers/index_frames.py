"""Small hand-made inputs for the index methodology tests.

Everything built here is SYNTHETIC: made-up trusts (codes T1, T2, ...) and values chosen so that results can be
worked out by hand. They test the arithmetic, never stand in for NHS figures.
"""

from collections.abc import Iterable

import polars as pl

from assets.indicators.framework import INDICATOR_COLUMNS, Framework, load_framework, parse_indicators
from pipeline.reference import read_reference

ACUTE = "Acute and Acute & Community Trusts"
AMBULANCE = "Ambulance Trusts"


def survey_indicator(
    indicator_id: str,
    question_id: str,
    factor_id: int,
    *,
    barrier: str | None = None,
    weight: float = 1.0,
    polarity: str = "higher_better",
) -> dict[str, str | None]:
    """A survey indicator row; `question_id` must be a real question of data/reference/question_catalogue.csv."""
    return {
        "indicator_id": indicator_id,
        "label": indicator_id,
        "source": "staff_survey_items",
        "question_id": question_id,
        "measure": None,
        "factor_id": str(factor_id),
        "barrier": barrier,
        "polarity": polarity,
        "weight": str(weight),
        "rationale": "synthetic test indicator",
    }


def measure_indicator(
    indicator_id: str,
    source: str,
    measure: str,
    factor_id: int,
    *,
    barrier: str | None = None,
    weight: float = 1.0,
    polarity: str = "higher_better",
) -> dict[str, str | None]:
    row = survey_indicator(indicator_id, "", factor_id, barrier=barrier, weight=weight, polarity=polarity)
    return {**row, "source": source, "question_id": None, "measure": measure}


def framework_with(rows: Iterable[dict[str, str | None]], **settings: object) -> Framework:
    """The real factors, barriers, reference data and settings with a hand-made set of indicators."""
    real = load_framework()
    raw = pl.DataFrame(list(rows), schema={c: pl.String for c in INDICATOR_COLUMNS})
    indicators = parse_indicators(raw, real.factors, real.barriers, real.questions, real.measures, real.scale_variance)
    return real.with_indicators(indicators).with_settings(**settings)


def organisations(rows: Iterable[tuple[str, int, str]]) -> pl.DataFrame:
    """survey_organisations rows (org_code, survey_year, benchmarking_group); is_trust as the real
    data/reference/benchmarking_groups.csv classifies the group (null for a group it does not know)."""
    trust_groups = read_reference("benchmarking_groups").select(
        "benchmarking_group", is_trust=pl.col("is_trust") == "true"
    )
    return pl.DataFrame(
        list(rows),
        schema={"org_code": pl.String, "survey_year": pl.Int64, "benchmarking_group": pl.String},
        orient="row",
    ).join(trust_groups, on="benchmarking_group", how="left", maintain_order="left")


def survey_items(rows: Iterable[tuple]) -> pl.DataFrame:
    """Rows of (org_code, survey_year, question_id, score_0_10, pct_favourable, pct_unfavourable, base)."""
    return pl.DataFrame(
        list(rows),
        schema={
            "org_code": pl.String,
            "survey_year": pl.Int64,
            "question_id": pl.String,
            "score_0_10": pl.Float64,
            "pct_favourable": pl.Float64,
            "pct_unfavourable": pl.Float64,
            "base": pl.Float64,
        },
        orient="row",
    ).with_columns(value_source=pl.lit("synthetic test row"), comparable_with_2024=pl.lit(True))


def people_promise(rows: Iterable[tuple] = ()) -> pl.DataFrame:
    """Rows of (org_code, survey_year, measure_id, score, base)."""
    return pl.DataFrame(
        list(rows),
        schema={
            "org_code": pl.String,
            "survey_year": pl.Int64,
            "measure_id": pl.String,
            "score": pl.Float64,
            "base": pl.Float64,
        },
        orient="row",
    ).with_columns(measure_name=pl.col("measure_id"))


def performance(rows: Iterable[tuple] = (), months_covered: int = 12) -> pl.DataFrame:
    """Rows of (org_code, financial_year, measure, value, denominator); financial_year as in performance_annual
    ('2024-25'), with its financial_year_start and the months it rests on."""
    return pl.DataFrame(
        list(rows),
        schema={
            "org_code": pl.String,
            "financial_year": pl.String,
            "measure": pl.String,
            "value": pl.Float64,
            "denominator": pl.Float64,
        },
        orient="row",
    ).with_columns(
        numerator=pl.col("value") * pl.col("denominator") / 100,
        financial_year_start=pl.col("financial_year").str.slice(0, 4).cast(pl.Int64),
        months_covered=pl.lit(months_covered, dtype=pl.Int64),
    )


def indicator_rows(rows: Iterable[tuple], group: str = ACUTE) -> pl.DataFrame:
    """A ready indicators table from (org_code, survey_year, indicator_id, raw_value) with orientation +1,
    a five-point 0-10 score and a base of 400, before normalisation."""
    return pl.DataFrame(
        list(rows),
        schema={"org_code": pl.String, "survey_year": pl.Int64, "indicator_id": pl.String, "raw_value": pl.Float64},
        orient="row",
    ).with_columns(
        base=pl.lit(400.0),
        value_type=pl.lit("score_0_10"),
        orientation=pl.lit(1, dtype=pl.Int64),
        benchmarking_group=pl.lit(group),
        source=pl.lit("staff_survey_items"),
        period=pl.col("survey_year").cast(pl.String),
    )
