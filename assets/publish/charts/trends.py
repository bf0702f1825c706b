"""Trends: a trust's index and factors by survey year against its group (from readiness_trend, every year on the
same indicators), and monthly performance as SPC charts."""

from functools import cache
from typing import Any

import altair as alt
import polars as pl

from assets.indicators.framework import load_framework
from assets.publish.charts import export
from assets.publish.charts.common import (
    BLACK,
    BLUE,
    CHART_WIDTH,
    GREY,
    LIGHT_GREY,
    SPC_COLOURS,
    SPC_LABELS,
    decimals_to_double,
    require_columns,
    title,
)
from assets.publish.charts.settings import Scale
from assets.publish.charts.wording import interval_label

INDEX_SERIES = "Readiness index"


def as_trend(index: pl.DataFrame, factors: pl.DataFrame) -> pl.DataFrame:
    """readiness_trend-shaped rows from factor_scores and readiness_index as published. Only for inputs without a
    readiness_trend table (synthetic report fixtures): each year's published scores rest on that year's indicators,
    so the published report draws readiness_trend instead."""
    require_columns(factors, {"org_code", "survey_year", "factor_id", "score", "score_lo", "score_hi"}, "factor_scores")
    keys = ["org_code", "survey_year"]
    return pl.concat(
        [
            decimals_to_double(index).select(
                *keys, component=pl.lit("index"), score="index_score", score_lo="index_lo", score_hi="index_hi"
            ),
            decimals_to_double(factors).select(
                *keys,
                component=pl.format("factor_{}", "factor_id"),
                score="score",
                score_lo="score_lo",
                score_hi="score_hi",
            ),
        ],
        how="vertical_relaxed",
    ).with_columns(indicator_set=pl.lit("as published each year"))


@cache
def _factor_names() -> dict[int, str]:
    """Factor names from data/framework/, read once per process: reading the framework costs ~20 ms, once per
    trust page it was a third of the report's build time."""
    return dict(load_framework().factors.select("factor_id", "factor_name").iter_rows())


TREND_COLUMNS = (
    "survey_year",
    "series",
    "series_order",
    "value",
    "value_lo",
    "value_hi",
    "group_q25",
    "group_median",
    "group_q75",
    "benchmarking_group",
)


def all_trend_rows(index: pl.DataFrame, trend: pl.DataFrame) -> pl.DataFrame:
    """`trend_rows` of every trust at once, org_code first: each group's quartiles are computed once per group and
    year rather than once per trust page."""
    if "component" not in trend.columns:
        trend = as_trend(index, trend)
    require_columns(trend, {"org_code", "survey_year", "component", "score", "score_lo", "score_hi"}, "readiness_trend")
    names = _factor_names()
    factor_id = pl.col("component").str.strip_prefix("factor_").cast(pl.Int32, strict=False)
    long = decimals_to_double(trend).select(
        "org_code",
        pl.col("survey_year").cast(pl.Int64),
        series=pl.when(pl.col("component") == "index")
        .then(pl.lit(INDEX_SERIES))
        .otherwise(
            pl.format("{} {}", factor_id, factor_id.replace_strict(names, default=None, return_dtype=pl.String))
        ),
        series_order=pl.when(pl.col("component") == "index").then(0).otherwise(factor_id),
        value=pl.col("score"),
        value_lo=pl.col("score_lo"),
        value_hi=pl.col("score_hi"),
    )
    groups = index.select("org_code", pl.col("survey_year").cast(pl.Int64), "benchmarking_group")
    grouped = long.join(groups, on=["org_code", "survey_year"])
    spread = grouped.group_by("survey_year", "benchmarking_group", "series").agg(
        group_q25=pl.col("value").quantile(0.25, "linear"),
        group_median=pl.col("value").median(),
        group_q75=pl.col("value").quantile(0.75, "linear"),
    )
    return (
        grouped.join(spread, on=["survey_year", "benchmarking_group", "series"], how="left")
        .select("org_code", *TREND_COLUMNS)
        .sort("org_code", "series_order", "survey_year")
    )


def trend_rows(index: pl.DataFrame, trend: pl.DataFrame, *, org_code: str) -> pl.DataFrame:
    """Per survey year: the trust's index and factor scores with intervals from `trend` (readiness_trend: every year
    scored on the indicators measured in every year), and its group's quartiles that year (the group is the trust's
    benchmarking group in each year, from readiness_index, so a trust that changed group is compared fairly).
    A factor_scores frame is accepted for inputs without readiness_trend (see as_trend)."""
    if index.filter(pl.col("org_code") == org_code).is_empty():
        raise ValueError(f"readiness_index has no rows for {org_code}")
    return all_trend_rows(index, trend).filter(pl.col("org_code") == org_code).drop("org_code")


@cache
def _trends_body(scale: Scale) -> dict[str, Any]:
    x = alt.X("survey_year:O", title="Survey year (autumn fieldwork)", axis=alt.Axis(labelAngle=0))
    tooltip = [
        alt.Tooltip("series:N", title="Measure"),
        alt.Tooltip("survey_year:O", title="Survey year"),
        alt.Tooltip("value:Q", title="Trust", format=".2f"),
        alt.Tooltip("value_lo:Q", title=f"{interval_label()}: low", format=".2f"),
        alt.Tooltip("value_hi:Q", title=f"{interval_label()}: high", format=".2f"),
        alt.Tooltip("group_median:Q", title="Group median", format=".2f"),
        alt.Tooltip("benchmarking_group:N", title="Group"),
    ]
    band = (
        alt.Chart()
        .mark_area(color=LIGHT_GREY)
        .encode(x=x, y=alt.Y("group_q25:Q", title=scale.short_title), y2=alt.Y2("group_q75"))
    )
    median = alt.Chart().mark_line(color=BLACK, strokeDash=[4, 3]).encode(x=x, y=alt.Y("group_median:Q"))
    interval = alt.Chart().mark_rule(color=GREY).encode(x=x, y=alt.Y("value_lo:Q"), y2=alt.Y2("value_hi"))
    trust = (
        alt.Chart()
        .mark_line(color=BLUE, point=alt.OverlayMarkDef(color=BLUE, size=40))
        .encode(x=x, y=alt.Y("value:Q"), tooltip=tooltip)
    )
    return export.body_spec(
        alt.layer(band, median, interval, trust, data=export.ROWS_DATA, width=300, height=130).facet(
            facet=alt.Facet(
                "series:N",
                sort=alt.SortField("series_order"),
                title=None,
                header=alt.Header(labelLimit=340, labelFontSize=11),
            ),
            columns=2,
        )
    )


def trends_chart(rows: pl.DataFrame, *, trust_label: str, scale: Scale, caption: str) -> dict[str, Any]:
    """Draw `trend_rows`: one small multiple per series, the trust against its group's median and quartiles."""
    return export.filled_spec(
        _trends_body(scale),
        rows,
        title(
            f"Change readiness over time: {trust_label}",
            f"Blue: the trust with its {interval_label()}; dashed: group median; grey band: group "
            f"interquartile range. Every year is scored on the indicators measured in every year (readiness_trend), "
            f"so the years compare like with like. Scores: {scale.unit}.",
            caption,
        ),
    )


def trust_trends(
    index: pl.DataFrame,
    trend: pl.DataFrame,
    *,
    org_code: str,
    trust_label: str,
    scale: Scale,
    caption: str,
) -> dict[str, Any]:
    return trends_chart(
        trend_rows(index, trend, org_code=org_code), trust_label=trust_label, scale=scale, caption=caption
    )


def _spc_frame(spc: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    require_columns(
        spc, {"org_code", "measure", "period_month", "value", "mean", "lpl", "upl", "point_type"}, "spc_monthly"
    )
    require_columns(measures, {"measure", "label", "unit"}, "performance measures")
    unknown = set(spc["point_type"].unique().drop_nulls()) - SPC_COLOURS.keys()
    if unknown:
        raise ValueError(f"spc_monthly has unknown point_type value(s) {sorted(unknown)}")
    return decimals_to_double(spc)


def _spc_labelled(spc: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    return (
        spc.join(measures.select("measure", "label", "unit"), on="measure", how="left")
        .with_columns(
            label=pl.coalesce("label", "measure"),
            unit=pl.coalesce("unit", pl.lit("value")),
            point_label=pl.col("point_type").replace_strict(SPC_LABELS, return_dtype=pl.String),
        )
        .sort("org_code", "measure", "period_month")
    )


def all_spc_rows(spc: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """`spc_rows` of every organisation at once, sorted by org_code, measure and month."""
    return _spc_labelled(_spc_frame(spc, measures), measures)


def spc_rows(spc: pl.DataFrame, measures: pl.DataFrame, *, org_code: str) -> pl.DataFrame:
    return _spc_labelled(_spc_frame(spc, measures).filter(pl.col("org_code") == org_code), measures)


@cache
def _spc_body() -> dict[str, Any]:
    """One layered chart faceted by measure, with each measure's own axes: a chart per measure joined by vconcat
    draws the same but takes Altair about six times as long to build."""
    x = alt.X("period_month:T", title="Month", axis=alt.Axis(format="%b %Y"))
    tooltip = [
        alt.Tooltip("label:N", title="Measure"),
        alt.Tooltip("period_month:T", title="Month", format="%B %Y"),
        alt.Tooltip("value:Q", title="Value", format=",.2f"),
        alt.Tooltip("unit:N", title="Unit"),
        alt.Tooltip("mean:Q", title="Mean", format=",.2f"),
        alt.Tooltip("lpl:Q", title="Lower process limit", format=",.2f"),
        alt.Tooltip("upl:Q", title="Upper process limit", format=",.2f"),
        alt.Tooltip("point_label:N", title="Variation"),
    ]
    line = (
        alt.Chart()
        .mark_line(color=GREY)
        .encode(x=x, y=alt.Y("value:Q", title="Value (unit in the panel heading)", scale=alt.Scale(zero=False)))
    )
    limits = (
        alt.Chart()
        .transform_fold(["mean", "lpl", "upl"], as_=["line", "line_value"])
        .mark_line(color=BLACK)
        .encode(
            x=x,
            y=alt.Y("line_value:Q"),
            detail=alt.Detail("line:N"),
            strokeDash=alt.StrokeDash(
                "line:N", scale=alt.Scale(domain=["mean", "lpl", "upl"], range=[[1, 0], [6, 4], [6, 4]]), legend=None
            ),
        )
    )
    points = (
        alt.Chart()
        .mark_point(filled=True, size=45, opacity=1)
        .encode(
            x=x,
            y=alt.Y("value:Q"),
            color=alt.Color(
                "point_label:N",
                scale=alt.Scale(domain=list(SPC_LABELS.values()), range=list(SPC_COLOURS.values())),
                legend=alt.Legend(title="Variation (Making Data Count)", labelLimit=260),
            ),
            tooltip=tooltip,
        )
    )
    return export.body_spec(
        alt.layer(line, limits, points, width=CHART_WIDTH, height=180)
        .facet(
            row=alt.Row("panel:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left", labelFontSize=12)),
            data=export.ROWS_DATA,
        )
        .resolve_scale(x="independent", y="independent")
    )


def spc_chart_from_rows(rows: pl.DataFrame, *, trust_label: str, caption: str) -> dict[str, Any]:
    """Draw `spc_rows`: one XmR chart per measure, points coloured as Making Data Count does."""
    return export.filled_spec(
        _spc_body(),
        rows.with_columns(panel=pl.format("{} ({})", "label", "unit")),
        title(
            f"Monthly performance as statistical process control charts: {trust_label}",
            "Solid line: mean; dashed: process limits (mean ± 2.66 × mean moving range); points coloured by variation.",
            caption,
        ),
    )


def spc_chart(
    spc: pl.DataFrame, measures: pl.DataFrame, *, org_code: str, trust_label: str, caption: str
) -> dict[str, Any] | None:
    """XmR charts for one trust; None when it has no SPC series."""
    rows = spc_rows(spc, measures, org_code=org_code)
    return None if rows.is_empty() else spc_chart_from_rows(rows, trust_label=trust_label, caption=caption)


def spc_summary_chart(point_counts: pl.DataFrame, measures: pl.DataFrame, *, caption: str) -> alt.Chart:
    """How many monthly points of each measure fall in each Making Data Count variation type, over every
    organisation: `point_counts` has measure, point_type and points (one row per pair)."""
    require_columns(point_counts, {"measure", "point_type", "points"}, "spc_monthly point counts")
    rows = (
        point_counts.join(measures.select("measure", "label"), on="measure", how="left")
        .with_columns(
            label=pl.coalesce("label", "measure"),
            point_label=pl.col("point_type").replace_strict(SPC_LABELS, return_dtype=pl.String),
        )
        .sort("measure", "point_type")
    )
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y("label:N", title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("points:Q", title="Share of monthly points, all organisations (proportion)", stack="normalize"),
            color=alt.Color(
                "point_label:N",
                scale=alt.Scale(domain=list(SPC_LABELS.values()), range=list(SPC_COLOURS.values())),
                legend=alt.Legend(title="Variation (Making Data Count)", orient="bottom", columns=2, labelLimit=260),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Measure"),
                alt.Tooltip("point_label:N", title="Variation"),
                alt.Tooltip("points:Q", title="Points", format=","),
            ],
        )
        .properties(
            width=CHART_WIDTH,
            title=title("Special-cause variation in the monthly performance series", caption),
        )
    )
