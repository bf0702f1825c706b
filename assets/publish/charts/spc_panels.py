"""Which monthly performance series of a trust are long enough for an SPC chart, and the months each covers.

Making Data Count and NHSRplotthedots treat process limits from fewer than `short_segment_points` (12) values as
unreliable, so the report draws an XmR chart only for a series with at least that many months; a shorter one is
shown as a small table of its values with the reason, never as a chart with limits from one or two points.
"""

from dataclasses import dataclass
from datetime import date

import polars as pl

from assets.publish.spc.xmr import default_rules


@dataclass(frozen=True)
class ShortSeries:
    label: str
    unit: str
    months: str
    points: int
    rows: list[dict[str, str]]  # month, value


def _span(first: date, last: date) -> str:
    if first == last:
        return f"{first:%B %Y} only"
    return f"{first:%b %Y} to {last:%b %Y}"


def _first_last(months: list[date | None]) -> tuple[date, date]:
    present = [month for month in months if month is not None]
    return min(present), max(present)


def month_span(months: pl.Series) -> str:
    return _span(months.min(), months.max())  # type: ignore[arg-type]


def _split(
    rows: pl.DataFrame, keys: list[str], minimum: int | None
) -> tuple[pl.DataFrame, list[tuple[tuple[object, ...], ShortSeries]]]:
    """split_series over the series named by `keys`; each short series comes with its key."""
    minimum = minimum if minimum is not None else default_rules().short_segment_points
    counted = rows.with_columns(points=pl.len().over(keys))
    long = counted.filter(pl.col("points") >= minimum)
    spans = long.group_by(keys).agg(first=pl.col("period_month").min(), last=pl.col("period_month").max())
    spans = spans.select(
        *keys,
        span=pl.Series(
            [_span(first, last) for first, last in spans.select("first", "last").iter_rows()], dtype=pl.String
        ),
    )
    long = (
        long.join(spans, on=keys, how="left", maintain_order="left")
        .with_columns(label=pl.format("{}, {} ({} months)", "label", pl.col("span").fill_null(""), "points"))
        .drop("points", "span")
    )
    series: dict[tuple[object, ...], list[dict[str, object]]] = {}
    for row in counted.filter(pl.col("points") < minimum).iter_rows(named=True):
        series.setdefault(tuple(row[k] for k in keys), []).append(row)
    short = [
        (
            key,
            ShortSeries(
                label=points[0]["label"],
                unit=points[0]["unit"],
                months=_span(*_first_last([p["period_month"] for p in points])),
                points=len(points),
                rows=[
                    {
                        "month": f"{p['period_month']:%B %Y}",
                        "value": f"{p['value']:,.2f}" if p["value"] is not None else "not published",
                    }
                    for p in points
                ],
            ),
        )
        for key, points in series.items()
    ]
    return long, short


def split_series(rows: pl.DataFrame, minimum: int | None = None) -> tuple[pl.DataFrame, list[ShortSeries]]:
    """(rows of the series with at least `minimum` months, each label naming its months; the shorter series)."""
    long, short = _split(rows, ["measure"], minimum)
    return long, [series for _, series in short]


def split_series_by_trust(
    rows: pl.DataFrame, minimum: int | None = None
) -> dict[str, tuple[pl.DataFrame, list[ShortSeries]]]:
    """split_series of every trust in `rows` (all_spc_rows) at once, by org_code; a trust without rows is absent."""
    long, short = _split(rows, ["org_code", "measure"], minimum)
    split: dict[str, tuple[pl.DataFrame, list[ShortSeries]]] = {
        str(code): (part, []) for (code,), part in long.partition_by("org_code", as_dict=True).items()
    }
    for (code, _), series in short:
        split.setdefault(str(code), (long.clear(), []))[1].append(series)
    return split
