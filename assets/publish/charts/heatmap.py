"""Heatmap: trusts × success factors within one benchmarking group, standardised per factor, sortable."""

import altair as alt
import polars as pl

from assets.publish.charts.common import CHART_WIDTH, LIGHT_GREY, decimals_to_double, require_columns, title

SORT_OPTIONS = ["Readiness index", "Trust name"]


def heatmap_rows(
    index: pl.DataFrame, factors: pl.DataFrame, names: pl.DataFrame, *, group: str, survey_year: int
) -> pl.DataFrame:
    """One row per trust and factor: the score, and its z-score among the group's trusts for that factor
    (so every column of the heatmap shares one colour scale whatever the factor's spread)."""
    require_columns(factors, {"org_code", "survey_year", "factor_id", "factor_name", "score"}, "factor_scores")
    trusts = (
        decimals_to_double(index)
        .filter((pl.col("benchmarking_group") == group) & (pl.col("survey_year") == survey_year))
        .select("org_code", "index_score", "rank_in_group")
        .join(names.select("org_code", "label"), on="org_code", how="left")
        .with_columns(label=pl.coalesce("label", "org_code"))
        .sort(["index_score", "org_code"], descending=[True, False], nulls_last=True)
        .with_columns(index_order=pl.int_range(pl.len()))
        .sort("label")
        .with_columns(name_order=pl.int_range(pl.len()))
    )
    grid = trusts.join(
        decimals_to_double(factors)
        .filter(pl.col("survey_year") == survey_year)
        .select("factor_id", "factor_name")
        .unique()
        .with_columns(factor_label=pl.format("{} {}", "factor_id", "factor_name")),
        how="cross",
    )
    scores = (
        decimals_to_double(factors)
        .filter(pl.col("survey_year") == survey_year)
        .select("org_code", "factor_id", "score")
    )
    return (
        grid.join(scores, on=["org_code", "factor_id"], how="left")
        .with_columns(
            z=((pl.col("score") - pl.col("score").mean()) / pl.col("score").std()).over("factor_id"),
            measured=pl.col("score").is_not_null(),
        )
        .sort(["index_order", "factor_id"])
        .select(
            "org_code",
            "label",
            "index_score",
            "index_order",
            "name_order",
            "factor_id",
            "factor_label",
            "score",
            "z",
            "measured",
        )
    )


def factor_heatmap(
    index: pl.DataFrame, factors: pl.DataFrame, names: pl.DataFrame, *, group: str, survey_year: int, caption: str
) -> alt.LayerChart:
    rows = heatmap_rows(index, factors, names, group=group, survey_year=survey_year)
    if rows.is_empty():
        raise ValueError(f"no factor scores for {group!r} in {survey_year}")
    sort_by = alt.param(
        name="sort_by",
        value=SORT_OPTIONS[0],
        bind=alt.binding_select(options=SORT_OPTIONS, name="Sort trusts by "),
    )
    base = (
        alt.Chart(rows)
        .transform_calculate(sort_key=f"{sort_by.name} == '{SORT_OPTIONS[0]}' ? datum.index_order : datum.name_order")
        .encode(
            x=alt.X(
                "factor_label:N",
                sort=alt.EncodingSortField("factor_id"),
                title="Success factor",
                axis=alt.Axis(labelAngle=-30, labelLimit=220),
            ),
            # labels end with the ODS code, so they are never cut
            y=alt.Y(
                "label:N", sort=alt.EncodingSortField("sort_key", op="min"), title=None, axis=alt.Axis(labelLimit=0)
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Trust"),
                alt.Tooltip("factor_label:N", title="Factor"),
                alt.Tooltip("score:Q", title="Factor score", format=".2f"),
                alt.Tooltip("z:Q", title="Standard deviations from the group mean", format=".2f"),
                alt.Tooltip("index_score:Q", title="Readiness index", format=".2f"),
            ],
        )
    )
    missing = base.mark_rect(color=LIGHT_GREY).transform_filter("!datum.measured")
    measured = (
        base.mark_rect()
        .transform_filter("datum.measured")
        .encode(
            color=alt.Color(
                "score:Q",
                # the published factor score, the number the trust page shows (not re-standardised); blue above the
                # group, orange below: the diverging pair stays distinct under colour-vision deficiency
                scale=alt.Scale(scheme="blueorange", reverse=True, domainMid=0),
                legend=alt.Legend(title=["Factor score", "(0 = group average)"]),
            )
        )
    )
    return (
        alt.layer(missing, measured)
        .add_params(sort_by)
        .properties(
            width=min(CHART_WIDTH, 70 * rows["factor_id"].n_unique()),
            height=max(14 * rows["org_code"].n_unique(), 60),
            title=title(
                f"Success factors by trust, {group}, {survey_year}",
                "Each cell: the trust's published factor score, as on its own page (0 = typical for the group); "
                "grey: not measured.",
                caption,
            ),
        )
    )
