"""Trust profile: the seven success factors and four barriers for one trust against its group's spread; the
markers show the weakest components of the trust's own relative profile (readiness_index), and the tooltip gives
each component's relative score and probability of being the trust's weakest (factor_scores, barrier_scores)."""

from functools import cache
from typing import Any

import altair as alt
import polars as pl

from assets.publish.charts import export
from assets.publish.charts.common import (
    BLACK,
    BLUE,
    CHART_WIDTH,
    LIGHT_GREY,
    SKY,
    VERMILLION,
    decimals_to_double,
    require_columns,
    title,
)
from assets.publish.charts.settings import Scale
from assets.publish.charts.wording import area_key, interval_label, support_type_words

FACTORS, BARRIERS = "Success factors", "Barriers"  # the two panels, as `area` names them
SCORE_COLUMNS = {"org_code", "survey_year", "score", "score_lo", "score_hi"}
PROFILE_COLUMNS = ("relative_score", "p_weakest")


def group_of(index: pl.DataFrame, org_code: str, survey_year: int) -> dict[str, Any]:
    rows = decimals_to_double(index).filter((pl.col("org_code") == org_code) & (pl.col("survey_year") == survey_year))
    if rows.height != 1:
        raise ValueError(f"readiness_index has {rows.height} rows for {org_code} in {survey_year}, expected 1")
    return rows.row(0, named=True)


def _area_rows(scores: pl.DataFrame, key: str, labels: dict[str, str], trusts: pl.DataFrame, year: int) -> pl.DataFrame:
    """Every trust of `trusts` (org_code, benchmarking_group) by every area of `labels`, in label order."""
    scores = (
        decimals_to_double(scores).filter(pl.col("survey_year") == year).with_columns(item=pl.col(key).cast(pl.String))
    )
    spread = (
        scores.join(trusts, on="org_code")
        .group_by("benchmarking_group", "item")
        .agg(
            group_q25=pl.col("score").quantile(0.25, "linear"),
            group_median=pl.col("score").median(),
            group_q75=pl.col("score").quantile(0.75, "linear"),
            group_n=pl.col("score").count(),
        )
    )
    # the trust's own profile (relative score, probability of being its weakest) where the table publishes it
    profile = [pl.col(c) if c in scores.columns else pl.lit(None, dtype=pl.Float64).alias(c) for c in PROFILE_COLUMNS]
    own = scores.select("org_code", "item", "score", "score_lo", "score_hi", *profile)
    order = pl.DataFrame({"item": list(labels), "item_order": range(len(labels))})
    return (
        trusts.join(order, how="cross", maintain_order="left_right")
        .join(own, on=["org_code", "item"], how="left", maintain_order="left")
        .join(spread, on=["benchmarking_group", "item"], how="left", maintain_order="left")
        .with_columns(
            measured=pl.col("score").is_not_null(),
            name=pl.col("item").replace_strict(labels, return_dtype=pl.String),
        )
        .with_columns(
            label=pl.when(pl.col("measured")).then(pl.col("name")).otherwise(pl.format("{} (not measured)", "name"))
        )
    )


def all_profile_rows(
    index: pl.DataFrame,
    factors: pl.DataFrame,
    barriers: pl.DataFrame,
    barrier_names: dict[str, str],
    *,
    survey_year: int,
) -> pl.DataFrame:
    """`profile_rows` of every trust in readiness_index for the survey year, in one pass over the tables (the
    report's trust pages take their own rows by org_code, the first column): factors in factor order, then barriers."""
    require_columns(factors, SCORE_COLUMNS | {"factor_id", "factor_name"}, "factor_scores")
    require_columns(barriers, SCORE_COLUMNS | {"barrier"}, "barrier_scores")
    year_index = decimals_to_double(index).filter(pl.col("survey_year") == survey_year)
    repeated = year_index.filter(pl.col("org_code").is_duplicated())["org_code"].unique().sort().to_list()
    if repeated:
        raise ValueError(f"readiness_index has more than one row for {', '.join(repeated)} in {survey_year}")
    trusts = year_index.select("org_code", "benchmarking_group")
    factor_labels = dict(
        factors.select(pl.col("factor_id").cast(pl.String), "factor_name").unique().sort("factor_id").iter_rows()
    )
    numbered = {key: f"{key} {name}" for key, name in factor_labels.items()}
    weakest = pl.DataFrame(
        [
            (row["org_code"], area, key)
            for row in year_index.iter_rows(named=True)
            for area, key in (
                (FACTORS, area_key(row["weakest_factor_1"], factor_labels)),
                (FACTORS, area_key(row["weakest_factor_2"], factor_labels)),
                (BARRIERS, area_key(row["weakest_barrier"], barrier_names)),
            )
            if key
        ],
        schema={"org_code": pl.String, "area": pl.String, "item": pl.String},
        orient="row",
    ).unique()
    return (
        pl.concat(
            [
                _area_rows(factors, "factor_id", numbered, trusts, survey_year).with_columns(area=pl.lit(FACTORS)),
                _area_rows(barriers, "barrier", barrier_names, trusts, survey_year).with_columns(area=pl.lit(BARRIERS)),
            ]
        )
        .join(
            weakest.with_columns(weakest=pl.lit(True)),
            on=["org_code", "area", "item"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("weakest").fill_null(False))
        .sort("org_code", maintain_order=True)
        .select(
            "org_code",
            "area",
            "item_order",
            "item",
            "label",
            "measured",
            "weakest",
            "score",
            "score_lo",
            "score_hi",
            "group_q25",
            "group_median",
            "group_q75",
            "group_n",
            *PROFILE_COLUMNS,
        )
    )


def profile_rows(
    index: pl.DataFrame,
    factors: pl.DataFrame,
    barriers: pl.DataFrame,
    barrier_names: dict[str, str],
    *,
    org_code: str,
    survey_year: int,
) -> pl.DataFrame:
    """Factors (in factor order) then barriers for one trust: its score and interval, the group's quartiles,
    and whether the index named the area among the trust's weakest."""
    group_of(index, org_code, survey_year)
    return (
        all_profile_rows(index, factors, barriers, barrier_names, survey_year=survey_year)
        .filter(pl.col("org_code") == org_code)
        .drop("org_code")
    )


def _panel(area: str, rows: int, scale: Scale, heading: str) -> alt.LayerChart:
    y = alt.Y(
        "label:N",
        sort=alt.EncodingSortField("item_order", order="ascending"),
        title=None,
        axis=alt.Axis(labelLimit=380),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Area"),
        alt.Tooltip("score:Q", title="Trust score", format=".2f"),
        alt.Tooltip("score_lo:Q", title=f"{interval_label()}: low", format=".2f"),
        alt.Tooltip("score_hi:Q", title=f"{interval_label()}: high", format=".2f"),
        alt.Tooltip("group_median:Q", title="Group median", format=".2f"),
        alt.Tooltip("group_q25:Q", title="Group lower quartile", format=".2f"),
        alt.Tooltip("group_q75:Q", title="Group upper quartile", format=".2f"),
        alt.Tooltip("weakest:N", title="Among the weakest"),
        alt.Tooltip("relative_score:Q", title="Relative to the trust's own average", format="+.2f"),
        alt.Tooltip("p_weakest:Q", title="Probability it is the trust's weakest", format=".0%"),
    ]
    iqr = (
        alt.Chart()
        .mark_bar(color=LIGHT_GREY, height=12)
        .encode(
            x=alt.X("group_q25:Q", title=f"{scale.title}; grey: group interquartile range, black tick: median"),
            x2=alt.X2("group_q75"),
            y=y,
            tooltip=tooltip,
        )
    )
    median = alt.Chart().mark_tick(color=BLACK, thickness=2, size=14).encode(x=alt.X("group_median:Q"), y=y)
    interval = (
        alt.Chart()
        .mark_rule(color=SKY, strokeWidth=2)
        .encode(x=alt.X("score_lo:Q"), x2=alt.X2("score_hi"), y=y, tooltip=tooltip)
    )
    point = (
        alt.Chart()
        .mark_point(filled=True, size=70)
        .encode(
            x=alt.X("score:Q"),
            y=y,
            color=alt.Color(
                "weakest:N",
                scale=alt.Scale(domain=[True, False], range=[VERMILLION, BLUE]),
                legend=alt.Legend(title="Among the trust's weakest", labelExpr="datum.value ? 'yes' : 'no'"),
            ),
            # same field and legend title as the colour, so Vega-Lite draws one legend of coloured shapes
            shape=alt.Shape(
                "weakest:N",
                scale=alt.Scale(domain=[True, False], range=["diamond", "circle"]),
                legend=alt.Legend(title="Among the trust's weakest", labelExpr="datum.value ? 'yes' : 'no'"),
            ),
            tooltip=tooltip,
        )
    )
    return alt.layer(
        iqr,
        median,
        interval,
        point,
        width=CHART_WIDTH,
        height=24 * rows,
        title=alt.TitleParams(heading, fontSize=12),
    ).transform_filter(alt.datum.area == area)


@cache
def _profile_body(factor_rows: int, barrier_rows: int, factor_scale: Scale, barrier_scale: Scale) -> dict[str, Any]:
    return export.body_spec(
        alt.vconcat(
            _panel(FACTORS, factor_rows, factor_scale, "Seven success factors for change"),
            _panel(BARRIERS, barrier_rows, barrier_scale, "Four barriers to change"),
            data=export.ROWS_DATA,
        )
    )


def profile_chart(
    rows: pl.DataFrame,
    *,
    trust_label: str,
    survey_year: int,
    group: str,
    support_words: str,
    factor_scale: Scale,
    barrier_scale: Scale,
    caption: str,
) -> dict[str, Any]:
    """Draw `profile_rows`: factors and barriers for one trust (point and interval) over its group's median and
    interquartile range, the weakest areas as vermillion diamonds and the suggested support in words."""
    areas = rows["area"]
    body = _profile_body(int((areas == FACTORS).sum()), int((areas == BARRIERS).sum()), factor_scale, barrier_scale)
    return export.filled_spec(
        body,
        rows,
        title(
            f"Change-readiness profile: {trust_label}, {survey_year}",
            f"Against the other {group} (median and interquartile range).",
            f"Suggested national support: {support_words}.",
            caption,
        ),
    )


def trust_profile(
    index: pl.DataFrame,
    factors: pl.DataFrame,
    barriers: pl.DataFrame,
    *,
    trust_label: str,
    org_code: str,
    survey_year: int,
    barrier_names: dict[str, str],
    support_types: pl.DataFrame,
    factor_scale: Scale,
    barrier_scale: Scale,
    caption: str,
) -> dict[str, Any]:
    """The trust profile chart straight from the published tables."""
    row = group_of(index, org_code, survey_year)
    return profile_chart(
        profile_rows(index, factors, barriers, barrier_names, org_code=org_code, survey_year=survey_year),
        trust_label=trust_label,
        survey_year=survey_year,
        group=row["benchmarking_group"],
        support_words=support_type_words(row["suggested_support_type"], support_types),
        factor_scale=factor_scale,
        barrier_scale=barrier_scale,
        caption=caption,
    )
