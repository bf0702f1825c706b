"""Which monthly performance series of a trust are long enough for an SPC chart, and the months each covers.

Making Data Count and NHSRplotthedots treat process limits from fewer than `short_segment_points` (12) values as
unreliable, so the report draws an XmR chart only for a series with at least that many months; a shorter one is
shown as a small table of its values with the reason, never as a chart with limits from one or two points.
"""

from dataclasses import dataclass

import polars as pl

from assets.publish.spc.xmr import default_rules


@dataclass(frozen=True)
class ShortSeries:
    label: str
    unit: str
    months: str
    points: int
    rows: list[dict[str, str]]  # month, value


def month_span(months: pl.Series) -> str:
    first, last = months.min(), months.max()
    if first == last:
        return f"{first:%B %Y} only"  # type: ignore[str-format]
    return f"{first:%b %Y} to {last:%b %Y}"  # type: ignore[str-format]


def split_series(rows: pl.DataFrame, minimum: int | None = None) -> tuple[pl.DataFrame, list[ShortSeries]]:
    """(rows of the series with at least `minimum` months, each label naming its months; the shorter series)."""
    minimum = minimum if minimum is not None else default_rules().short_segment_points
    counted = rows.with_columns(points=pl.len().over("measure"))
    long = counted.filter(pl.col("points") >= minimum)
    spans = {
        measure: month_span(group["period_month"])
        for (measure,), group in long.group_by("measure", maintain_order=True)
    }
    long = long.with_columns(
        label=pl.format(
            "{}, {} ({} months)",
            "label",
            pl.col("measure").replace_strict(spans, return_dtype=pl.String, default=""),
            "points",
        )
    ).drop("points")
    short = [
        ShortSeries(
            label=group["label"][0],
            unit=group["unit"][0],
            months=month_span(group["period_month"]),
            points=group.height,
            rows=[
                {"month": f"{month:%B %Y}", "value": f"{value:,.2f}" if value is not None else "not published"}
                for month, value in group.select("period_month", "value").iter_rows()
            ],
        )
        for (_,), group in counted.filter(pl.col("points") < minimum).group_by("measure", maintain_order=True)
    ]
    return long, short
