"""The long `indicators` table: one value per trust, survey year and framework indicator, normalised within the
official benchmarking group and year.

Rules (docs/methodology.md explains why):
- Staff survey items: one value type per indicator, the first of `value_preference` that has values in every
  survey year the indicator has any; otherwise the first available type per year. Recorded per row.
- Orientation: +1 when a higher value means more readiness, -1 otherwise (polarity, flipped for an unfavourable %).
- Staff survey rows whose question is not comparable with its 2024 wording are left out (`non_comparable_items`).
- Performance measures: survey year Y (fieldwork September-December Y) joins the financial year starting in April
  of Y (`performance_annual.financial_year_start` = Y + `financial_year_offset`, e.g. survey 2024 with 2024-25), and
  only values resting on at least `min_months_covered` months.
- Only trusts are compared: organisations whose benchmarking group is a trust group (`survey_organisations.is_trust`,
  from data/reference/benchmarking_groups.csv); ICBs, CSUs, CCGs and social enterprises are left out.
"""

import polars as pl

from assets.indicators.framework import (
    CONTEXT_SOURCE,
    PEOPLE_PROMISE_SOURCE,
    PERFORMANCE_SOURCE,
    SURVEY_SOURCE,
    SURVEY_VALUE_TYPES,
    Framework,
)
from pipeline import dictionary
from pipeline.errors import InputDataError
from pipeline.reference import read_reference

KEYS = ["org_code", "survey_year", "indicator_id"]
PEER_KEYS = ["survey_year", "benchmarking_group", "indicator_id"]
INDICATOR_COLUMNS = list(dictionary.table("indicators").columns)  # in published order


def compared_organisations(survey_organisations: pl.DataFrame) -> pl.DataFrame:
    """(org_code, survey_year, benchmarking_group) of the trusts; an organisation whose group is not classified
    (is_trust null) is an error naming its row."""
    unclassified = survey_organisations.with_row_index("row", offset=1).filter(pl.col("is_trust").is_null())
    if unclassified.height:
        first = unclassified.row(0, named=True)
        raise InputDataError(
            f"benchmarking group {first['benchmarking_group']!r} of {first['org_code']} is not classified as trust or "
            "not (data/reference/benchmarking_groups.csv)",
            file="survey_organisations",
            row=first["row"],
            column="is_trust",
        )
    return survey_organisations.filter(pl.col("is_trust")).select(
        "org_code", pl.col("survey_year").cast(pl.Int64), "benchmarking_group"
    )


def _survey_values(framework: Framework, staff_survey_items: pl.DataFrame, orgs: pl.DataFrame) -> pl.DataFrame:
    preference = framework.settings.value_preference
    rank = {value_type: position for position, value_type in enumerate(preference)}
    items = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE).select("indicator_id", "question_id")
    if framework.settings.non_comparable_items == "exclude":
        staff_survey_items = staff_survey_items.filter(pl.col("comparable_with_2024").fill_null(True))
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
    return (
        orgs.select("org_code", "survey_year")
        .join(financial_years(performance, framework), on=["org_code", "survey_year"])
        .join(measures, on="measure")
        .select(
            *KEYS,
            raw_value=pl.col("value").cast(pl.Float64),
            base=pl.col("denominator").cast(pl.Float64),
            value_type=pl.lit("administrative"),
            unfavourable=pl.lit(False),
            period=pl.col("financial_year"),
        )
    )


def context_survey_years(datasets: pl.DataFrame, window: pl.DataFrame, survey_years: list[int]) -> pl.DataFrame:
    """(dataset, survey_year) pairs: a trust context dataset joins each survey year Y whose window, from
    `months_before_fieldwork_end` before to `months_after_fieldwork_end` after December Y, holds the midpoint of
    its reference period (data/reference/context_window.csv, trust_context_datasets.csv)."""
    setting = dict(window.select("setting", "value").iter_rows())
    before, after = int(setting["months_before_fieldwork_end"]), int(setting["months_after_fieldwork_end"])
    midpoint = pl.col("reference_midpoint").str.to_date("%Y-%m")
    fieldwork_end = pl.date(pl.col("survey_year"), 12, 1)
    return (
        datasets.select("dataset", "reference_midpoint")
        .join(pl.DataFrame({"survey_year": survey_years}, schema={"survey_year": pl.Int64}), how="cross")
        .filter(
            (midpoint >= fieldwork_end.dt.offset_by(f"-{before}mo"))
            & (midpoint <= fieldwork_end.dt.offset_by(f"{after}mo"))
        )
        .select("dataset", "survey_year")
    )


def _context_values(framework: Framework, trust_context: pl.DataFrame, orgs: pl.DataFrame) -> pl.DataFrame:
    """Trust context indicators for the survey years whose window holds their reference period; a survey reporting
    sector (R1F1) takes its legal trust's values where data/reference/reporting_sectors.csv says so."""
    measures = framework.indicators.filter(pl.col("source") == CONTEXT_SOURCE).select("indicator_id", "measure")
    if measures.is_empty() or trust_context.is_empty():
        return pl.DataFrame(schema=_VALUE_SCHEMA)
    sectors = (
        read_reference("reporting_sectors")
        .filter(pl.col("inherits_datasets").fill_null("").str.split("|").list.contains(CONTEXT_SOURCE))
        .select(org_code="sector_code", context_code="legal_org_code")
    )
    years = context_survey_years(
        read_reference("trust_context_datasets"),
        read_reference("context_window"),
        orgs["survey_year"].unique().to_list(),
    )
    return (
        orgs.select("org_code", "survey_year")
        .join(sectors, on="org_code", how="left")
        .with_columns(context_code=pl.coalesce("context_code", "org_code"))
        .join(trust_context.rename({"org_code": "context_code"}), on="context_code")
        .join(years, on=["dataset", "survey_year"])
        .join(measures, on="measure")
        .select(
            *KEYS,
            raw_value=pl.col("value").cast(pl.Float64),
            base=pl.lit(None, dtype=pl.Float64),
            value_type=pl.lit("administrative"),
            unfavourable=pl.lit(False),
            period=pl.col("period"),
        )
    )


_VALUE_SCHEMA = {
    "org_code": pl.String,
    "survey_year": pl.Int64,
    "indicator_id": pl.String,
    "raw_value": pl.Float64,
    "base": pl.Float64,
    "value_type": pl.String,
    "unfavourable": pl.Boolean,
    "period": pl.String,
}


def financial_years(performance_annual: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """performance_annual rows usable for the index, keyed by the survey year they join (financial year starting in
    April of survey_year + financial_year_offset), full enough (months_covered >= min_months_covered) and, for a
    rate with a denominator, resting on at least min_performance_denominator patients or events."""
    settings = framework.settings
    return performance_annual.filter(
        pl.col("value").is_not_null()
        & (pl.col("months_covered") >= settings.min_months_covered)
        & (pl.col("denominator").is_null() | (pl.col("denominator") >= settings.min_performance_denominator))
    ).with_columns(survey_year=(pl.col("financial_year_start") - settings.financial_year_offset).cast(pl.Int64))


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
    trust_context: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The long indicators table (columns INDICATOR_COLUMNS), one row per trust, survey year and indicator with data."""
    orgs = compared_organisations(survey_organisations)
    context = _context_values(framework, trust_context, orgs) if trust_context is not None else None
    values = pl.concat(
        [
            _survey_values(framework, staff_survey_items, orgs),
            _people_promise_values(framework, people_promise_scores, orgs),
            _performance_values(framework, performance_annual, orgs),
            *([context] if context is not None else []),
        ]
    )
    duplicated = values.filter(pl.struct(KEYS).is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise InputDataError(
            f"two values for indicator {first['indicator_id']} of {first['org_code']} in {first['survey_year']}",
            file="staff_survey_items / people_promise_scores / performance_annual / trust_context",
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
