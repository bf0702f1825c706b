"""Small hand-made inputs for the index methodology tests.

Everything built here is SYNTHETIC: made-up trusts (codes T1, T2, ...) and values chosen so that results can be
worked out by hand. They test the arithmetic, never stand in for NHS figures.
"""

from collections.abc import Iterable

import polars as pl

from assets.indicators.framework import INDICATOR_COLUMNS, Framework, load_framework, parse_indicators

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
    scale: str = "five_point",
) -> dict[str, str | None]:
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
        "response_scale": scale,
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
    scale = "administrative" if source == "performance_annual" else "composite"
    return {**row, "source": source, "question_id": None, "measure": measure, "response_scale": scale}


def framework_with(rows: Iterable[dict[str, str | None]], **settings: object) -> Framework:
    """The real factors, barriers, scales and settings with a hand-made set of indicators."""
    real = load_framework()
    raw = pl.DataFrame(list(rows), schema={c: pl.String for c in INDICATOR_COLUMNS})
    indicators = parse_indicators(raw, real.factors, real.barriers, real.response_scales, real.measures)
    return real.with_indicators(indicators).with_settings(**settings)


def organisations(rows: Iterable[tuple[str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows),
        schema={"org_code": pl.String, "survey_year": pl.Int64, "benchmarking_group": pl.String},
        orient="row",
    )


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
    ).with_columns(value_source=pl.lit("synthetic test row"))


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


def performance(rows: Iterable[tuple] = ()) -> pl.DataFrame:
    """Rows of (org_code, financial_year, measure, value, denominator)."""
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
    ).with_columns(numerator=pl.col("value") * pl.col("denominator") / 100)


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
