"""The long `indicators` table: one value per trust, survey year and framework indicator, normalised within the
official benchmarking group and year.

Rules (docs/methodology.md explains why):
- Staff survey items: one value type per indicator, the first of `value_preference` that has values in every
  survey year the indicator has any; otherwise the first available type per year. Recorded per row.
- Orientation: +1 when a higher value means more readiness, -1 otherwise (polarity, flipped for an unfavourable %).
- Performance measures: survey year Y joins financial year Y/Y+1 (shifted by `financial_year_offset`).
- Only organisations in compared benchmarking groups (the five trust groups) are kept.
"""

import polars as pl

from assets.indicators.framework import (
    PEOPLE_PROMISE_SOURCE,
    PERFORMANCE_SOURCE,
    SURVEY_SOURCE,
    SURVEY_VALUE_TYPES,
    Framework,
)
from pipeline.errors import InputDataError

KEYS = ["org_code", "survey_year", "indicator_id"]
PEER_KEYS = ["survey_year", "benchmarking_group", "indicator_id"]
INDICATOR_COLUMNS = [
    "org_code",
    "survey_year",
    "indicator_id",
    "raw_value",
    "base",
    "norm_score",
    "value_type",
    "orientation",
    "benchmarking_group",
    "source",
    "period",
    "peers",
]


def financial_year(survey_year: int, offset: int = 0) -> str:
    """Survey year Y (fieldwork September-December Y) -> financial year 'Y/YY+1', e.g. 2024 -> '2024/25'."""
    start = survey_year + offset
    return f"{start}/{(start + 1) % 100:02d}"


def financial_year_expr(survey_year: pl.Expr, offset: int = 0) -> pl.Expr:
    start = survey_year + offset
    return pl.format("{}/{}", start.cast(pl.String), ((start + 1) % 100).cast(pl.String).str.zfill(2))


def compared_organisations(survey_organisations: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """(org_code, survey_year, benchmarking_group) for organisations in compared groups; unknown groups are errors."""
    known = set(framework.benchmarking_groups["benchmarking_group"].to_list())
    unknown = survey_organisations.with_row_index("row", offset=1).filter(
        ~pl.col("benchmarking_group").is_in(list(known))
    )
    if unknown.height:
        first = unknown.row(0, named=True)
        raise InputDataError(
            f"benchmarking group {first['benchmarking_group']!r} is not in data/framework/benchmarking_groups.csv",
            file="survey_organisations",
            row=first["row"],
            column="benchmarking_group",
        )
    return survey_organisations.filter(pl.col("benchmarking_group").is_in(framework.compared_groups())).select(
        "org_code", pl.col("survey_year").cast(pl.Int64), "benchmarking_group"
    )


def _survey_values(framework: Framework, staff_survey_items: pl.DataFrame, orgs: pl.DataFrame) -> pl.DataFrame:
    preference = framework.settings.value_preference
    rank = {value_type: position for position, value_type in enumerate(preference)}
    items = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE).select("indicator_id", "question_id")
    long = (
        staff_survey_items.with_columns(pl.col("survey_year").cast(pl.Int64))
        .join(orgs.select("org_code", "survey_year"), on=["org_code", "survey_year"])
        .join(items, on="question_id")
        .unpivot(
            index=["org_code", "survey_year", "indicator_id", "base"],
            on=list(SURVEY_VALUE_TYPES),
            variable_name="value_type",
            value_name="raw_value",
        )
        .filter(pl.col("raw_value").is_not_null() & pl.col("value_type").is_in(list(preference)))
        .with_columns(preference_rank=pl.col("value_type").replace_strict(rank, return_dtype=pl.Int64))
    )
    years = long.group_by("indicator_id").agg(years_any=pl.col("survey_year").n_unique())
    consistent = (
        long.group_by("indicator_id", "value_type", "preference_rank")
        .agg(years=pl.col("survey_year").n_unique())
        .join(years, on="indicator_id")
        .filter(pl.col("years") == pl.col("years_any"))
        .group_by("indicator_id")
        .agg(consistent_rank=pl.col("preference_rank").min())
    )
    per_year = long.group_by("indicator_id", "survey_year").agg(first_rank=pl.col("preference_rank").min())
    chosen = per_year.join(consistent, on="indicator_id", how="left").select(
        "indicator_id", "survey_year", preference_rank=pl.coalesce("consistent_rank", "first_rank")
    )
    return long.join(chosen, on=["indicator_id", "survey_year", "preference_rank"]).select(
        *KEYS,
        "raw_value",
        pl.col("base").cast(pl.Float64),
        "value_type",
        unfavourable=pl.col("value_type") == "pct_unfavourable",
        period=pl.col("survey_year").cast(pl.String),
    )


def _people_promise_values(framework: Framework, scores: pl.DataFrame, orgs: pl.DataFrame) -> pl.DataFrame:
    measures = framework.indicators.filter(pl.col("source") == PEOPLE_PROMISE_SOURCE).select(
        "indicator_id", measure_id="measure"
    )
    return (
        scores.with_columns(pl.col("survey_year").cast(pl.Int64))
        .join(orgs.select("org_code", "survey_year"), on=["org_code", "survey_year"])
        .join(measures, on="measure_id")
        .filter(pl.col("score").is_not_null())
        .select(
            *KEYS,
            raw_value=pl.col("score").cast(pl.Float64),
            base=pl.col("base").cast(pl.Float64),
            value_type=pl.lit("official_score"),
            unfavourable=pl.lit(False),
            period=pl.col("survey_year").cast(pl.String),
        )
    )


def _performance_values(framework: Framework, performance: pl.DataFrame, orgs: pl.DataFrame) -> pl.DataFrame:
    measures = framework.indicators.filter(pl.col("source") == PERFORMANCE_SOURCE).select("indicator_id", "measure")
    offset = framework.settings.financial_year_offset
    return (
        orgs.select("org_code", "survey_year", financial_year=financial_year_expr(pl.col("survey_year"), offset))
        .join(performance, on=["org_code", "financial_year"])
        .join(measures, on="measure")
        .filter(pl.col("value").is_not_null())
        .select(
            *KEYS,
            raw_value=pl.col("value").cast(pl.Float64),
            base=pl.col("denominator").cast(pl.Float64),
            value_type=pl.lit("administrative"),
            unfavourable=pl.lit(False),
            period=pl.col("financial_year"),
        )
    )


def normalise(indicators: pl.DataFrame, method: str, min_peers: int) -> pl.DataFrame:
    """Set norm_score and peers: `method` applied to orientation * raw_value within benchmarking group and year.

    zscore: (x - mean) / population SD (the group is the whole population of peers, not a sample); 0 when all
    peers are equal. percentile: (average rank - 0.5) / peers, in (0, 1). minmax: (x - min) / (max - min), 0.5
    when all are equal. Null where fewer than `min_peers` trusts of the group have a value.
    """
    x = pl.col("orientation") * pl.col("raw_value")
    peers = x.count().over(PEER_KEYS)
    if method == "zscore":
        spread = x.std(ddof=0).over(PEER_KEYS)
        score = pl.when(spread > 0).then((x - x.mean().over(PEER_KEYS)) / spread).otherwise(0.0)
    elif method == "percentile":
        score = (x.rank("average").over(PEER_KEYS) - 0.5) / peers
    elif method == "minmax":
        low, high = x.min().over(PEER_KEYS), x.max().over(PEER_KEYS)
        score = pl.when(high > low).then((x - low) / (high - low)).otherwise(0.5)
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    return indicators.with_columns(
        peers=peers.cast(pl.Int64),
        norm_score=pl.when(pl.col("raw_value").is_not_null() & (peers >= min_peers)).then(score).cast(pl.Float64),
    )


def build_indicators(
    framework: Framework,
    staff_survey_items: pl.DataFrame,
    people_promise_scores: pl.DataFrame,
    performance_annual: pl.DataFrame,
    survey_organisations: pl.DataFrame,
) -> pl.DataFrame:
    """The long indicators table (columns INDICATOR_COLUMNS), one row per trust, survey year and indicator with data."""
    orgs = compared_organisations(survey_organisations, framework)
    values = pl.concat(
        [
            _survey_values(framework, staff_survey_items, orgs),
            _people_promise_values(framework, people_promise_scores, orgs),
            _performance_values(framework, performance_annual, orgs),
        ]
    )
    duplicated = values.filter(pl.struct(KEYS).is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise InputDataError(
            f"two values for indicator {first['indicator_id']} of {first['org_code']} in {first['survey_year']}",
            file="staff_survey_items / people_promise_scores / performance_annual",
            column="org_code, survey_year",
        )
    framed = values.join(
        framework.indicators.select("indicator_id", "source", "orientation"), on="indicator_id"
    ).with_columns(orientation=pl.when(pl.col("unfavourable")).then(-pl.col("orientation")).otherwise("orientation"))
    settings = framework.settings
    return (
        normalise(framed.join(orgs, on=["org_code", "survey_year"]), settings.normalisation, settings.min_peers)
        .select(INDICATOR_COLUMNS)
        .sort(KEYS)
    )
