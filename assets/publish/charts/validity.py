"""Validity: the index against independent outcomes (sickness absence, A&E 4-hour), with the fitted association."""

import altair as alt
import polars as pl

from assets.publish.charts.common import BLUE, VERMILLION, decimals_to_double, require_columns, title
from assets.publish.charts.settings import Scale


def validity_rows(
    summary: pl.DataFrame, points: pl.DataFrame, names: pl.DataFrame, measures: pl.DataFrame
) -> pl.DataFrame:
    """Per-trust points, each carrying its outcome's label, unit and fitted association."""
    require_columns(summary, {"outcome", "n", "coefficient", "ci_lo", "ci_hi"}, "index_validity")
    require_columns(points, {"org_code", "outcome", "index_score", "outcome_value"}, "validity points")
    labels = measures.select(outcome="measure", outcome_label="label", outcome_unit="unit")
    return (
        decimals_to_double(points)
        .join(decimals_to_double(summary).select("outcome", "n", "coefficient", "ci_lo", "ci_hi"), on="outcome")
        .join(labels, on="outcome", how="left")
        .join(names.select("org_code", "label"), on="org_code", how="left")
        .with_columns(
            label=pl.coalesce("label", "org_code"),
            outcome_label=pl.coalesce("outcome_label", "outcome"),
            outcome_unit=pl.coalesce("outcome_unit", pl.lit("value")),
        )
        .filter(pl.col("index_score").is_not_null() & pl.col("outcome_value").is_not_null())
        .sort("outcome", "org_code")
    )


def _panel(rows: pl.DataFrame, scale: Scale) -> alt.LayerChart:
    first = rows.row(0, named=True)
    heading = (
        f"{first['outcome_label']}: coefficient {first['coefficient']:.2f} "
        f"(interval {first['ci_lo']:.2f} to {first['ci_hi']:.2f}), n = {first['n']}"
    )
    base = alt.Chart(rows).encode(
        x=alt.X("index_score:Q", title=scale.title),
        y=alt.Y(
            "outcome_value:Q", title=f"{first['outcome_label']} ({first['outcome_unit']})", scale=alt.Scale(zero=False)
        ),
    )
    dots = base.mark_point(filled=True, size=35, color=BLUE, opacity=0.7).encode(
        tooltip=[
            alt.Tooltip("label:N", title="Trust"),
            alt.Tooltip("index_score:Q", title="Index", format=".2f"),
            alt.Tooltip("outcome_value:Q", title=first["outcome_unit"], format=".2f"),
        ]
    )
    # least-squares line through the plotted points; the heading quotes the association the index method fitted
    fit = base.transform_regression("index_score", "outcome_value").mark_line(color=VERMILLION, strokeWidth=2)
    return alt.layer(dots, fit).properties(width=300, height=260, title=alt.TitleParams(heading, fontSize=11))


def validity_chart(
    summary: pl.DataFrame,
    points: pl.DataFrame,
    names: pl.DataFrame,
    measures: pl.DataFrame,
    *,
    scale: Scale,
    survey_year: int,
    caption: str,
    notes: tuple[str, ...] = (),
) -> alt.HConcatChart:
    rows = validity_rows(summary, points, names, measures)
    if rows.is_empty():
        raise ValueError("no validity points to chart")
    panels = [_panel(part, scale) for _, part in rows.group_by("outcome", maintain_order=True)]
    return alt.hconcat(*panels).properties(
        title=title(
            f"Does the index go with independent outcomes? Survey year {survey_year}",
            "Each point is a trust; line: least-squares fit; each heading gives the fitted association and its n.",
            *notes,
            caption,
        )
    )
