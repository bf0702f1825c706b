"""Year-on-year change of each factor and of the index, and whether it exceeds what sampling error explains.

For each survey year and the previous survey year in the table, both years are rescored on the common indicator
set (indicators with a normalised score in both years), so a factor is compared with itself rather than with a
differently composed factor. Scores are normalised within group and year, so a change is a move relative to the
trust's peers: a trust that improved exactly as much as its group shows no change. The interval of the change
comes from Monte Carlo draws with sampling error only (weights held at their chosen values, since the same weights
apply in both years); the change "exceeds sampling error" when that interval excludes zero.
Trusts whose benchmarking group differs between the two years are left out (their peers changed).

Change that means change (method_settings.csv, data/reference/org_successors.csv):
- a factor is compared only where at least `min_common_indicators` of its indicators are common to the two years
  and measured for the trust; the index only where the trust has at least that many common indicators in all;
- never across a merger or change of organisation code: a row of the successor or the predecessor is removed when
  the merger's effective date falls after the start of the earlier survey's fieldwork (1 September of the earlier
  year) and on or before the end of the later one's (31 December), because the organisation surveyed changed;
- never on a question without comparable history: items flagged comparable_with_2024 = false in the question
  crosswalk are excluded from the indicators (non_comparable_items = exclude), so they cannot enter a change.
"""

from datetime import date
from itertools import pairwise

import numpy as np
import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import YearDraws, simulate_year, year_arrays
from assets.indicators.framework import Framework
from pipeline import dictionary
from pipeline.reference import read_reference

CHANGE_STREAM = 1
CHANGE_SCHEMA = dictionary.table("readiness_change").polars_schema()
CHANGE_COLUMNS = list(CHANGE_SCHEMA)


def _point_scores(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    factors = score_factors(indicators, framework)
    index = aggregate_index(factors, framework)
    return pl.concat(
        [
            factors.select(
                "org_code",
                "survey_year",
                "benchmarking_group",
                component=pl.format("factor_{}", "factor_id"),
                factor_id="factor_id",
                score="score",
                n_common_indicators="n_indicators",
            ),
            index.select(
                "org_code",
                "survey_year",
                "benchmarking_group",
                component=pl.lit("index"),
                factor_id=pl.lit(None, dtype=pl.Int64),
                score="index_score",
                n_common_indicators=pl.lit(None, dtype=pl.Int64),
            ),
        ]
    )


def _draw_columns(draws: YearDraws) -> dict[str, dict[str, np.ndarray]]:
    """component -> org_code -> (D,) draws."""
    a = draws.arrays
    columns = {
        f"factor_{factor}": {org: draws.factors[:, t, f] for t, org in enumerate(a.org_codes)}
        for f, factor in enumerate(a.factor_ids)
    }
    columns["index"] = {org: draws.index[:, t] for t, org in enumerate(a.org_codes)}
    return columns


def merger_breaks(successors: pl.DataFrame, years: list[int]) -> pl.DataFrame:
    """(org_code, survey_year) change rows that would straddle a merger: both the successor and the predecessor
    code, for each pair of consecutive survey years whose fieldwork window contains the effective date."""
    mergers = successors.filter(pl.col("effective_date").fill_null("") != "").with_columns(
        effective=pl.col("effective_date").str.to_date("%Y-%m-%d")
    )
    rows = []
    for previous, year in pairwise(years):
        start, end = date(previous, 9, 1), date(year, 12, 31)
        for merger in mergers.filter(pl.col("effective").is_between(start, end, closed="right")).iter_rows(named=True):
            rows += [(merger["successor_code"], year), (merger["predecessor_code"], year)]
    return pl.DataFrame(rows, schema={"org_code": pl.String, "survey_year": pl.Int64}, orient="row").unique()


def year_on_year_change(
    indicators: pl.DataFrame, framework: Framework, successors: pl.DataFrame | None = None
) -> pl.DataFrame:
    """readiness_change; `successors` defaults to data/reference/org_successors.csv."""
    settings = framework.settings
    successors = read_reference("org_successors") if successors is None else successors
    tail = (1.0 - settings.interval_level) / 2.0
    years = sorted(indicators["survey_year"].unique().to_list())
    frames = []
    for previous, year in pairwise(years):
        pair = indicators.filter(pl.col("survey_year").is_in([previous, year]) & pl.col("norm_score").is_not_null())
        common = (
            pair.group_by("indicator_id").agg(pl.col("survey_year").n_unique()).filter(pl.col("survey_year") == 2)
        )["indicator_id"]
        if common.is_empty():
            continue
        subset = framework.with_indicators(framework.indicators.filter(pl.col("indicator_id").is_in(common.implode())))
        pair = pair.filter(pl.col("indicator_id").is_in(common.implode()))
        points = _point_scores(pair, subset)
        now = points.filter(pl.col("survey_year") == year)
        before = points.filter(pl.col("survey_year") == previous).select(
            "org_code", "component", "benchmarking_group", previous_score="score"
        )
        joined = now.join(before, on=["org_code", "component", "benchmarking_group"]).filter(
            pl.col("score").is_not_null() & pl.col("previous_score").is_not_null()
        )
        draws = {
            y: _draw_columns(
                simulate_year(year_arrays(pair, subset, y), settings, stream=CHANGE_STREAM, perturb_weights=False)
            )
            for y in (previous, year)
        }
        differences = [
            draws[year][component][org] - draws[previous][component][org]
            for org, component in joined.select("org_code", "component").iter_rows()
        ]
        # one quantile call for every row (column by column: the same order statistics as row by row)
        low, high = np.quantile(np.column_stack(differences), [tail, 1.0 - tail], axis=0) if differences else ([], [])
        frames.append(
            joined.with_columns(
                previous_year=pl.lit(previous, dtype=pl.Int64),
                change=pl.col("score") - pl.col("previous_score"),
                change_lo=pl.Series(low, dtype=pl.Float64),
                change_hi=pl.Series(high, dtype=pl.Float64),
            )
        )
    if not frames:
        return pl.DataFrame(schema=CHANGE_SCHEMA)
    minimum = settings.min_common_indicators
    changes = pl.concat(frames)
    # the index row counts the trust's common indicators over all its factors
    common_total = (
        changes.filter(pl.col("component") != "index")
        .group_by("org_code", "survey_year")
        .agg(total=pl.col("n_common_indicators").sum())
    )
    changes = (
        changes.join(common_total, on=["org_code", "survey_year"], how="left")
        .with_columns(
            n_common_indicators=pl.when(pl.col("component") == "index")
            .then(pl.col("total"))
            .otherwise("n_common_indicators")
        )
        .drop("total")
        .filter(pl.col("n_common_indicators") >= minimum)
        .join(merger_breaks(successors, years), on=["org_code", "survey_year"], how="anti")
    )
    return (
        changes.with_columns(
            change_lo=pl.min_horizontal("change_lo", "change"),
            change_hi=pl.max_horizontal("change_hi", "change"),
        )
        .with_columns(exceeds_sampling_error=(pl.col("change_lo") > 0) | (pl.col("change_hi") < 0))
        .select(CHANGE_COLUMNS)
        .sort("org_code", "survey_year", "component")
    )
