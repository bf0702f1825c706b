"""Rules applied to financial-year performance before anyone scores it (pure Polars, tested without Dagster).

- Applicability and minimum denominators (data/reference/performance_annual_rules.csv): a value resting on too few
  cases, or a measure that does not apply (A&E without a Type 1 department all year), keeps its numerator and
  denominator but loses its value, with the reason.
- Merger exclusion: a financial year that straddles a denominator jump (performance_denominator_jumps) mixes two
  organisations; its values of that dataset are excluded, with the reason.
- Reporting sectors (data/reference/reporting_sectors.csv): a survey reporting sector (R1F1) takes its legal
  trust's (R1F) rows for the datasets the rule names; `legal_org_code` says whose figures they are.
"""

import polars as pl


def apply_exclusions(
    annual: pl.DataFrame, rules: pl.DataFrame, jumps: pl.DataFrame, measure_datasets: pl.DataFrame
) -> pl.DataFrame:
    """Null `value` and set `excluded_reason` where a rule or a straddled merger excludes the row.

    `annual` must carry `months_with_denominator` (months whose denominator is positive); the rule's
    `requires_every_month` measure must have a positive denominator in every covered month."""
    every_month = (
        annual.filter(pl.col("months_with_denominator") == pl.col("months_covered"))
        .select("org_code", "financial_year", required="measure")
        .with_columns(applies=pl.lit(True))
    )
    straddled = jumps.filter(pl.col("straddled_financial_year").is_not_null()).select(
        "org_code",
        "dataset",
        financial_year="straddled_financial_year",
        jump=pl.format("{} jump of {}% in {}", "measure", (pl.col("change_share") * 100).round(0), "period_month"),
    )
    straddled = straddled.group_by("org_code", "dataset", "financial_year").agg(pl.col("jump").str.join("; "))
    ruled = (
        annual.join(measure_datasets, on="measure", how="left")
        .join(
            rules.select(
                "measure",
                min_denominator=pl.col("min_annual_denominator").cast(pl.Float64),
                required=pl.col("requires_every_month"),
            ),
            on="measure",
            how="left",
        )
        .join(every_month, on=["org_code", "financial_year", "required"], how="left")
        .join(straddled, on=["org_code", "dataset", "financial_year"], how="left")
    )
    reason = (
        pl.when(pl.col("jump").is_not_null())
        .then(pl.format("straddles a change of organisation ({})", pl.col("jump")))
        .when(pl.col("required").is_not_null() & pl.col("applies").is_null())
        .then(pl.format("not applicable: no {} denominator in every month of the year", pl.col("required")))
        .when(
            pl.col("min_denominator").is_not_null() & (pl.col("denominator").fill_null(0) < pl.col("min_denominator"))
        )
        .then(pl.format("denominator below the minimum of {}", pl.col("min_denominator").cast(pl.Int64)))
    )
    return (
        ruled.with_columns(excluded_reason=reason)
        .with_columns(value=pl.when(pl.col("excluded_reason").is_null()).then(pl.col("value")))
        .select(*annual.columns, "excluded_reason")
    )


def add_reporting_sectors(annual: pl.DataFrame, sectors: pl.DataFrame, measure_datasets: pl.DataFrame) -> pl.DataFrame:
    """Add `legal_org_code` (the trust whose figures a row holds) and, for each reporting sector, copies of its legal
    trust's rows for the datasets it inherits."""
    own = annual.with_columns(legal_org_code=pl.col("org_code"))
    inherited = (
        sectors.with_columns(dataset=pl.col("inherits_datasets").fill_null("").str.split("|"))
        .explode("dataset")
        .filter(pl.col("dataset") != "")
        .select("sector_code", "legal_org_code", "dataset")
    )
    copies = (
        own.join(measure_datasets, on="measure")
        .join(inherited, left_on=["org_code", "dataset"], right_on=["legal_org_code", "dataset"])
        .with_columns(legal_org_code=pl.col("org_code"), org_code=pl.col("sector_code"))
        .select(own.columns)
    )
    return pl.concat([own, copies])
