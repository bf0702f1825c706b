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
from collections.abc import Iterable
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


AREA_SCHEMA = {"org_code": pl.String, "kind": pl.String, "area": pl.String}
AREA_KEYS = list(AREA_SCHEMA)
PEER_KEYS = ["trust", "kind", "area"]


def weak_area_frame(index_rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """org_code, kind, area: every weak area of every readiness_index row given."""
    return pl.DataFrame(
        [(row["org_code"], kind, area) for row in index_rows for kind, area in weak_areas(row)],
        schema=AREA_SCHEMA,
        orient="row",
    )


def area_indicators(catalogue: pl.DataFrame) -> pl.DataFrame:
    """kind, area, indicator_id: the indicators of each factor (by id) and barrier (by name)."""
    return pl.concat(
        [
            catalogue.filter(pl.col("factor_id").is_not_null()).select(
                kind=pl.lit("factor"), area=pl.col("factor_id").cast(pl.String), indicator_id="indicator_id"
            ),
            catalogue.filter(pl.col("barrier").is_not_null()).select(
                kind=pl.lit("barrier"), area=pl.col("barrier").cast(pl.String), indicator_id="indicator_id"
            ),
        ]
    ).unique(maintain_order=True)


def by_area(frame: pl.DataFrame, keys: list[str]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """A frame's rows as dicts without `keys`, listed under their key values in the frame's order."""
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in frame.iter_rows(named=True):
        out.setdefault(tuple(row.pop(k) for k in keys), []).append(row)
    return out


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


UNIT_SOURCES = {"trust_context": "trust_context", "performance_annual": "performance_measures"}


def indicator_units(
    catalogue: pl.DataFrame, trust_context: pl.DataFrame | None, performance_measures: pl.DataFrame | None
) -> pl.DataFrame:
    """indicator_id, unit: the unit the published table an administrative indicator is drawn from gives its measure
    (`trust_context.unit`, from data/reference/trust_context_*.csv; `performance_measures.unit`). Survey indicators
    have none here: the page's note gives their scales."""
    tables = {"trust_context": trust_context, "performance_measures": performance_measures}
    parts = [
        catalogue.filter(pl.col("source") == source)
        .join(
            table.select("measure", "unit").unique("measure", keep="first", maintain_order=True),
            on="measure",
        )
        .select("indicator_id", "unit")
        for source, name in UNIT_SOURCES.items()
        if (table := tables[name]) is not None
    ]
    schema = {"indicator_id": pl.String, "unit": pl.String}
    return pl.concat([pl.DataFrame(schema=schema), *parts], how="vertical_relaxed").unique(
        "indicator_id", keep="first", maintain_order=True
    )


def drivers(
    indicators: pl.DataFrame,
    statistics: pl.DataFrame,
    catalogue: pl.DataFrame,
    areas: pl.DataFrame,
    units: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """For each (org_code, kind, area) of `areas` (weak_area_frame): up to MAX_DRIVERS indicators of the area
    furthest below the group for that trust (see the module docstring), keyed by those three columns, with the
    indicator's unit where `units` (indicator_units) gives one. `indicators` are the year's rows of `indicators`,
    `statistics` from group_statistics."""
    units = units if units is not None else pl.DataFrame(schema={"indicator_id": pl.String, "unit": pl.String})
    wording = catalogue.select("indicator_id", wording=pl.coalesce("question_text", "label"), label="label")
    return (
        areas.join(area_indicators(catalogue), on=["kind", "area"])
        .join(indicators.filter(pl.col("norm_score").is_not_null()), on=["org_code", "indicator_id"])
        .join(statistics, on=["benchmarking_group", "indicator_id"])
        .with_columns(score_gap=pl.col("norm_score") - pl.col("median_norm"))
        .filter(pl.col("score_gap") < 0)
        .sort(*AREA_KEYS, "score_gap", "indicator_id")
        .filter(pl.int_range(pl.len()).over(AREA_KEYS) < MAX_DRIVERS)
        .select(
            *AREA_KEYS,
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
        .join(units, on="indicator_id", how="left", maintain_order="left")
    )


def learn_from(scores: pl.DataFrame, names: pl.DataFrame, areas: pl.DataFrame, *, area_column: str) -> pl.DataFrame:
    """For each (org_code, kind, area) of `areas`, keyed by `trust`, kind and area: up to MAX_PEERS trusts of the
    same group and year credibly stronger on the area (their interval above the trust's); `scores` are one kind's
    rows of factor_scores or barrier_scores for the year."""
    scored = scores.with_columns(area=pl.col(area_column).cast(pl.String))
    own = (
        scored.unique(["org_code", "area"], keep="first", maintain_order=True)
        .filter(pl.col("score_hi").is_not_null())
        .select(trust="org_code", area="area", benchmarking_group="benchmarking_group", own_hi="score_hi")
    )
    return (
        areas.rename({"org_code": "trust"})
        .join(own, on=["trust", "area"])
        .join(
            scored.select("area", "benchmarking_group", "org_code", "score", "score_lo", "score_hi"),
            on=["area", "benchmarking_group"],
        )
        .filter((pl.col("org_code") != pl.col("trust")) & (pl.col("score_lo") > pl.col("own_hi")))
        .sort(*PEER_KEYS, "score_lo", descending=[False, False, False, True], maintain_order=True)
        .filter(pl.int_range(pl.len()).over(PEER_KEYS) < MAX_PEERS)
        .join(names.select("org_code", "org_name"), on="org_code", how="left", maintain_order="left")
        .select(
            *PEER_KEYS,
            "org_code",
            pl.coalesce("org_name", "org_code").alias("org_name"),
            "score",
            "score_lo",
            "score_hi",
        )
    )
