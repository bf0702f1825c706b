"""What makes a trust's weak factor or barrier weak, and which peers do credibly better: the trust page's drivers.

Pure Polars: frames in, rows out, tested without Dagster or a browser.

Drivers: for each weak area (the index's weakest_factor_1/2 and weakest_barrier), the trust's indicators in that
area that are furthest below the group, by the orientation-adjusted indicator score `norm_score` minus the group
median of `norm_score` (so "below" always means "worse", whichever way the question is worded); at most
MAX_DRIVERS, only indicators below the median. Each row shows the trust's published value, the group median of the
same value and their difference, with a 90% distribution-free interval for the group median (the order statistics
n/2 ∓ 1.645 √n / 2, rounded outward; Conover, Practical Nonparametric Statistics, §3.2) carried into the difference.
The interval covers where the group's middle lies, not the trust's own sampling error, which at survey bases of
thousands is much smaller and is not published for mean scores.

Learn from: trusts of the same group whose score on that area is credibly higher: their lower interval end is above
this trust's upper end. At most MAX_PEERS, highest lower end first.
"""

import math
from typing import Any

import polars as pl

MAX_DRIVERS = 5
MAX_PEERS = 3
Z90 = 1.6448536269514722


def median_interval(values: list[float]) -> tuple[float, float]:
    """The 90% distribution-free interval of the median: sorted values at 1-based ranks n/2 ∓ z √n / 2, outward."""
    ordered = sorted(values)
    n = len(ordered)
    half = Z90 * math.sqrt(n) / 2
    lo_rank = max(1, math.floor(n / 2 - half))
    hi_rank = min(n, math.ceil(n / 2 + 1 + half))
    return ordered[lo_rank - 1], ordered[hi_rank - 1]


def weak_areas(index_row: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, id) of the areas the index marks weak: factors by id, the barrier by name."""
    areas = [("factor", str(index_row[k])) for k in ("weakest_factor_1", "weakest_factor_2") if index_row.get(k)]
    if index_row.get("weakest_barrier"):
        areas.append(("barrier", str(index_row["weakest_barrier"])))
    return areas


def area_indicators(catalogue: pl.DataFrame, kind: str, area: str) -> list[str]:
    column = pl.col("factor_id").cast(pl.String) if kind == "factor" else pl.col("barrier")
    return catalogue.filter(column == area)["indicator_id"].to_list()


def group_statistics(indicators: pl.DataFrame) -> pl.DataFrame:
    """Per benchmarking group and indicator: the median of norm_score, the median published value and its 90%
    interval, and the number of trusts; computed once for the whole report."""
    rows = []
    for (group, indicator), part in indicators.filter(pl.col("norm_score").is_not_null()).group_by(
        "benchmarking_group", "indicator_id"
    ):
        values = part["raw_value"].drop_nulls().to_list()
        if not values:
            continue
        lo, hi = median_interval(values)
        rows.append(
            {
                "benchmarking_group": group,
                "indicator_id": indicator,
                "median_norm": float(part["norm_score"].median()),  # type: ignore[arg-type]
                "group_median": float(pl.Series(values).median()),  # type: ignore[arg-type]
                "median_lo": lo,
                "median_hi": hi,
                "trusts": len(values),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "benchmarking_group": pl.String,
            "indicator_id": pl.String,
            "median_norm": pl.Float64,
            "group_median": pl.Float64,
            "median_lo": pl.Float64,
            "median_hi": pl.Float64,
            "trusts": pl.Int64,
        },
    )


def drivers(
    trust_indicators: pl.DataFrame, statistics: pl.DataFrame, catalogue: pl.DataFrame, *, kind: str, area: str
) -> pl.DataFrame:
    """Up to MAX_DRIVERS indicators of one area furthest below the group for one trust (see the module docstring);
    `trust_indicators` are the trust's rows of `indicators` for the year, `statistics` from group_statistics."""
    ids = area_indicators(catalogue, kind, area)
    wording = catalogue.select("indicator_id", wording=pl.coalesce("question_text", "label"), label="label")
    return (
        trust_indicators.filter(pl.col("indicator_id").is_in(ids) & pl.col("norm_score").is_not_null())
        .join(statistics, on=["benchmarking_group", "indicator_id"])
        .with_columns(score_gap=pl.col("norm_score") - pl.col("median_norm"))
        .filter(pl.col("score_gap") < 0)
        .sort("score_gap", "indicator_id")
        .head(MAX_DRIVERS)
        .select(
            "indicator_id",
            trust_value="raw_value",
            group_median="group_median",
            difference=pl.col("raw_value") - pl.col("group_median"),
            difference_lo=pl.col("raw_value") - pl.col("median_hi"),
            difference_hi=pl.col("raw_value") - pl.col("median_lo"),
            score_gap="score_gap",
            value_type="value_type",
            trusts="trusts",
        )
        .join(wording, on="indicator_id", how="left", maintain_order="left")
    )


def learn_from(
    scores: pl.DataFrame, names: pl.DataFrame, *, org_code: str, area_column: str, area: str
) -> pl.DataFrame:
    """Up to MAX_PEERS trusts of the same group and year credibly stronger on the area (interval above interval)."""
    area_rows = scores.filter(pl.col(area_column).cast(pl.String) == area)
    own = area_rows.filter(pl.col("org_code") == org_code)
    if own.is_empty() or own["score_hi"][0] is None:
        return pl.DataFrame(schema={"org_code": pl.String, "org_name": pl.String, "score": pl.Float64})
    mine = own.row(0, named=True)
    return (
        area_rows.filter(
            (pl.col("benchmarking_group") == mine["benchmarking_group"])
            & (pl.col("org_code") != org_code)
            & (pl.col("score_lo") > mine["score_hi"])
        )
        .sort("score_lo", descending=True)
        .head(MAX_PEERS)
        .join(names.select("org_code", "org_name"), on="org_code", how="left", maintain_order="left")
        .select("org_code", pl.coalesce("org_name", "org_code").alias("org_name"), "score", "score_lo", "score_hi")
    )
