"""League table: each trust's index with its interval, sorted within one benchmarking group and survey year."""

import altair as alt
import polars as pl

from assets.publish.charts.common import (
    BLACK,
    BLUE,
    CHART_WIDTH,
    GREY,
    LIGHT_GREY,
    SKY,
    decimals_to_double,
    require_columns,
    title,
)
from assets.publish.charts.settings import Scale
from assets.publish.charts.wording import interval_label

INDEX_COLUMNS = {
    "org_code",
    "survey_year",
    "benchmarking_group",
    "index_score",
    "index_lo",
    "index_hi",
    "rank_in_group",
    "rank_lo",
    "rank_hi",
    "n_in_group",
    "coverage",
}
ROW_HEIGHT = 14


def league_rows(index: pl.DataFrame, names: pl.DataFrame, group: str, survey_year: int) -> pl.DataFrame:
    """One row per trust of the group: ranked trusts by rank, then unranked ones (coverage below the minimum)."""
    require_columns(index, INDEX_COLUMNS, "readiness_index")
    rows = (
        decimals_to_double(index)
        .filter((pl.col("benchmarking_group") == group) & (pl.col("survey_year") == survey_year))
        .join(names.select("org_code", "label"), on="org_code", how="left")
        .with_columns(
            label=pl.coalesce("label", "org_code"),
            ranked=pl.col("rank_in_group").is_not_null(),
            coverage_pct=pl.col("coverage") * 100,
        )
        .sort(
            ["ranked", "rank_in_group", "index_score", "org_code"],
            descending=[True, False, True, False],
            nulls_last=True,
        )
    )
    return rows.with_columns(
        order=pl.int_range(pl.len()),
        rank_text=pl.when(pl.col("ranked"))
        .then(
            pl.format(
                "{} of {} ({} {} to {})", "rank_in_group", "n_in_group", pl.lit(interval_label()), "rank_lo", "rank_hi"
            )
        )
        .otherwise(pl.lit("listed, not ranked: coverage below the minimum")),
    ).select(
        "order",
        "org_code",
        "label",
        "ranked",
        "index_score",
        "index_lo",
        "index_hi",
        "rank_in_group",
        "rank_lo",
        "rank_hi",
        "n_in_group",
        "rank_text",
        "coverage_pct",
    )


def _panel(
    rows: pl.DataFrame, scale: Scale, colours: tuple[str, str], heading: str, median: float | None
) -> alt.LayerChart:
    # the rank interval sits in the row label, visible without hovering
    rows = rows.with_columns(row_label=pl.format("{} · {}", "label", "rank_text"))
    y = alt.Y(
        "row_label:N",
        sort=alt.EncodingSortField("order", order="ascending"),
        title=None,
        axis=alt.Axis(labelLimit=640),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Trust"),
        alt.Tooltip("index_score:Q", title="Index", format=".2f"),
        alt.Tooltip("index_lo:Q", title=f"{interval_label()}: low", format=".2f"),
        alt.Tooltip("index_hi:Q", title=f"{interval_label()}: high", format=".2f"),
        alt.Tooltip("rank_text:N", title="Rank in group"),
        alt.Tooltip("coverage_pct:Q", title="Coverage (% of index measured)", format=".0f"),
    ]
    base = alt.Chart(rows).encode(y=y, tooltip=tooltip)
    interval = base.mark_rule(color=colours[1], strokeWidth=3).encode(
        x=alt.X("index_lo:Q", title=f"{scale.title}; point and {interval_label()}"), x2="index_hi:Q"
    )
    point = base.mark_point(filled=True, size=40, color=colours[0]).encode(x="index_score:Q")
    layers: list[alt.Chart] = [interval, point]
    if median is not None:
        layers.insert(
            0,
            alt.Chart(pl.DataFrame({"group_median": [median]}))
            .mark_rule(color=BLACK, strokeDash=[4, 3])
            .encode(x="group_median:Q", tooltip=[alt.Tooltip("group_median:Q", title="Group median", format=".2f")]),
        )
    return alt.layer(*layers).properties(
        width=CHART_WIDTH, height=max(ROW_HEIGHT * rows.height, 40), title=alt.TitleParams(heading, fontSize=12)
    )


def league_table(
    index: pl.DataFrame, names: pl.DataFrame, *, group: str, survey_year: int, scale: Scale, caption: str
) -> alt.VConcatChart:
    """Ranked trusts sorted by rank with their index interval; trusts below the minimum coverage in a panel apart."""
    rows = league_rows(index, names, group, survey_year)
    if rows.is_empty():
        raise ValueError(f"no readiness_index rows for {group!r} in {survey_year}")
    ranked = rows.filter(pl.col("ranked"))
    unranked = rows.filter(~pl.col("ranked"))
    median = ranked["index_score"].median() if ranked.height else None
    # the x axis also at the top (an empty strip sharing the scale), so a long league reads without scrolling back
    panels: list[alt.Chart | alt.LayerChart] = [
        alt.Chart(pl.DataFrame({"index_score": [rows["index_lo"].min(), rows["index_hi"].max()]}))
        .mark_point(opacity=0)
        .encode(x=alt.X("index_score:Q", axis=alt.Axis(orient="top", title=scale.title)))
        .properties(width=CHART_WIDTH, height=1)
    ]
    if ranked.height:
        panels.append(
            _panel(ranked, scale, (BLUE, SKY), f"Ranked trusts ({ranked.height}); dashed line: group median", median)
        )
    if unranked.height:
        panels.append(
            _panel(
                unranked,
                scale,
                (GREY, LIGHT_GREY),
                f"Listed, not ranked: too little measured ({unranked.height})",
                median,
            )
        )
    return (
        alt.vconcat(*panels)
        .resolve_scale(x="shared")
        .properties(
            title=title(
                f"Change-readiness index, {group}, {survey_year}",
                f"Each trust's index with its {interval_label()}; hover for the rank interval.",
                caption,
            )
        )
    )
