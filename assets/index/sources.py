"""Which periods each survey year's index uses, and how much each source weighs in it (pure Polars; issue 15).

`index_periods`: for every survey year with trusts, each dataset the framework's indicators draw on, the period
the index needs from it (the survey's financial year for performance data; the documented window for trust
context), what the build holds, and whether the index uses it; where the build cannot cover the period (RTT or
cancer offline) the row says so, and the index scores nothing from it rather than a mismatched period.

`index_source_weights`: per survey year and benchmarking group, each source's nominal share of the index weight
(factor weight × the source's share of the factor's indicator weight, over the indicators a trust has) and its
effective weight, the share of the index's variance across the group's trusts it carries
(cov(source contribution, index) ÷ var(index)); shares sum to 1.
"""

import polars as pl

ROUND = 10  # decimals published for shares and correlations
PERIOD_COLUMNS = {
    "survey_year": pl.Int64,
    "source": pl.String,
    "dataset": pl.String,
    "required_period": pl.String,
    "held_period": pl.String,
    "months_held": pl.Int64,
    "used_in_index": pl.Boolean,
    "note": pl.String,
}


def _financial_year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def index_periods(
    survey_years: list[int],
    monthly_coverage: pl.DataFrame,
    indicator_rows: pl.DataFrame,
    performance_datasets: list[str],
    context_years: pl.DataFrame,
    context_periods: pl.DataFrame,
    financial_year_offset: int,
    min_months: int,
) -> pl.DataFrame:
    """`monthly_coverage`: (dataset, period_month) held in performance_monthly; `indicator_rows`: (survey_year,
    source, dataset) of the built indicators; `context_years`: (dataset, survey_year) pairs of the window rule;
    `context_periods`: (dataset, period) of trust_context datasets the framework uses."""
    used = set(indicator_rows.select("survey_year", "source", "dataset").unique().iter_rows())
    rows: list[dict[str, object]] = []
    for year in survey_years:
        start = year + financial_year_offset
        required = _financial_year(start)
        for dataset in performance_datasets:
            months = monthly_coverage.filter(pl.col("dataset") == dataset)["period_month"]
            inside = months.filter(
                (months.dt.year() * 12 + months.dt.month() >= start * 12 + 4)
                & (months.dt.year() * 12 + months.dt.month() <= (start + 1) * 12 + 3)
            )
            count = f"{months.len()} month" + ("" if months.len() == 1 else "s")
            held = f"{months.min():%Y-%m} to {months.max():%Y-%m} ({count})" if months.len() else "none"
            in_index = (year, "performance_annual", dataset) in used
            if inside.len() >= min_months:
                note = "the whole financial year is held" + ("" if in_index else "; no indicator scored from it")
            else:
                note = (
                    f"not covered: the build holds {inside.len()} of the 12 months of {required}; the index scores "
                    f"nothing from {dataset} for {year} rather than a mismatched period"
                )
            rows.append(
                {
                    "survey_year": year,
                    "source": "performance_annual",
                    "dataset": dataset,
                    "required_period": f"{required} (April {start} to March {start + 1})",
                    "held_period": held,
                    "months_held": inside.len(),
                    "used_in_index": in_index,
                    "note": note,
                }
            )
        for dataset, period in context_periods.iter_rows():
            in_window = (
                context_years.filter((pl.col("dataset") == dataset) & (pl.col("survey_year") == year)).height > 0
            )
            rows.append(
                {
                    "survey_year": year,
                    "source": "trust_context",
                    "dataset": dataset,
                    "required_period": "reference midpoint within the window of data/reference/context_window.csv",
                    "held_period": period,
                    "months_held": None,
                    "used_in_index": (year, "trust_context", dataset) in used,
                    "note": "inside the window" if in_window else "outside the window: not used for this year",
                }
            )
    return pl.DataFrame(rows, schema=PERIOD_COLUMNS).sort("survey_year", "source", "dataset")


def source_parts(indicators: pl.DataFrame, weights: pl.DataFrame, factor_weights: pl.DataFrame) -> pl.DataFrame:
    """Per trust, year and source: its nominal share of the index weight and its contribution to the index, with the
    index rebuilt as the arithmetic aggregation (a factor is the weighted mean of its indicators with a normalised
    score, the index the factor-weighted mean of the measured factors); contributions sum to the rebuilt index."""
    scored = (
        indicators.filter(pl.col("norm_score").is_not_null())
        .join(weights.select("indicator_id", "factor_id", "weight"), on="indicator_id")
        .join(factor_weights.select("factor_id", pl.col("index_weight").cast(pl.Float64)), on="factor_id")
    )
    trust = ["org_code", "survey_year"]
    measured_weight = (
        scored.select(*trust, "factor_id", "index_weight")
        .unique()
        .group_by(trust)
        .agg(index_weight_total=pl.col("index_weight").sum())
    )
    share = pl.col("index_weight") / pl.col("index_weight_total") * pl.col("weight") / pl.col("factor_total")
    parts = (
        scored.with_columns(factor_total=pl.col("weight").sum().over([*trust, "factor_id"]))
        .join(measured_weight, on=trust)
        .with_columns(share=share)
        .group_by(*trust, "benchmarking_group", "source")
        .agg(nominal=pl.col("share").sum(), contribution=(pl.col("share") * pl.col("norm_score")).sum())
    )
    grid = parts.select(*trust, "benchmarking_group").unique().join(parts.select("source").unique(), how="cross")
    full = grid.join(parts, on=[*trust, "benchmarking_group", "source"], how="left").with_columns(
        pl.col("nominal", "contribution").fill_null(0.0)
    )
    return full.with_columns(rebuilt_index=pl.col("contribution").sum().over(trust))


def source_weights(parts: pl.DataFrame, published_index: pl.DataFrame) -> pl.DataFrame:
    """Nominal share, effective (variance) share and the rebuild's correlation with the published index, per
    survey year, benchmarking group and source."""
    group = ["survey_year", "benchmarking_group"]
    centred = parts.with_columns(
        c=pl.col("contribution") - pl.col("contribution").mean().over([*group, "source"]),
        i=pl.col("rebuilt_index") - pl.col("rebuilt_index").mean().over([*group, "source"]),
    )
    fidelity = (
        parts.select("org_code", "survey_year", "benchmarking_group", "rebuilt_index")
        .unique()
        .join(published_index, on=["org_code", "survey_year"])
        .group_by(group)
        .agg(reconstruction_r=pl.corr("rebuilt_index", "index_score"))
    )
    # float sums in a parallel group_by may differ in the last bit from run to run: round so a rebuild of the same
    # data publishes the same bytes
    return (
        centred.group_by(*group, "source")
        .agg(
            trusts=pl.len(),
            nominal_share=pl.col("nominal").mean(),
            variance_share=(pl.col("c") * pl.col("i")).sum() / (pl.col("i") ** 2).sum(),
        )
        .join(fidelity, on=group, how="left")
        .with_columns(pl.col("nominal_share", "variance_share", "reconstruction_r").round(ROUND))
        .sort(*group, "source")
    )
