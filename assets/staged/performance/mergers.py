"""Detect a change of organisation (a merger or acquisition) as a jump in a trust's monthly size series.

A trust whose reported denominator (all A&E attendances, FTE days available) rises by more than a set share from
one month to the next has most likely taken over another organisation's services; a financial year that contains
months on both sides mixes two organisations, so its annual measures of that dataset are excluded (not scaled).
Rules and thresholds: data/reference/merger_detection.csv.
"""

import polars as pl

JUMP_COLUMNS = {
    "org_code": pl.String,
    "dataset": pl.String,
    "measure": pl.String,
    "period_month": pl.Date,
    "previous_month": pl.Date,
    "previous_size": pl.Float64,
    "size": pl.Float64,
    "change_share": pl.Float64,
    "threshold": pl.Float64,
    "reported_org_codes": pl.String,
    "straddled_financial_year": pl.String,
    "action": pl.String,
}


def financial_year_of(month: pl.Expr) -> pl.Expr:
    start = pl.when(month.dt.month() >= 4).then(month.dt.year()).otherwise(month.dt.year() - 1)
    return pl.format("{}-{}", start, ((start + 1) % 100).cast(pl.String).str.zfill(2))


def detect_denominator_jumps(monthly: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """One row per trust, dataset and month whose size rose by at least the rule's threshold over the month before
    (consecutive months) and whose level stayed up: the median of that month and the next two is at least the
    threshold above the median of the three months before, so a recovery from one low month (a children's hospital
    in August) or a one-month spike is not a merger. A jump in April starts a financial year, so it straddles none
    and excludes nothing."""
    frames = []
    for rule in rules.iter_rows(named=True):
        threshold, floor = float(rule["threshold"]), float(rule["min_previous_size"])
        series = (
            monthly.filter(pl.col("measure") == rule["measure"])
            .select("org_code", "period_month", "reported_org_codes", size=pl.col(rule["size_column"]).cast(pl.Float64))
            .sort("org_code", "period_month")
            .with_columns(
                previous_month=pl.col("period_month").shift(1).over("org_code"),
                previous_size=pl.col("size").shift(1).over("org_code"),
                level_before=pl.concat_list([pl.col("size").shift(k).over("org_code") for k in (1, 2, 3)])
                .list.drop_nulls()
                .list.median(),
                level_after=pl.concat_list([pl.col("size").shift(-k).over("org_code") for k in (0, 1, 2)])
                .list.drop_nulls()
                .list.median(),
            )
            .filter(pl.col("previous_month") == pl.col("period_month").dt.offset_by("-1mo"))
            .filter(
                (pl.col("level_before") >= floor)
                & (pl.col("size") >= pl.col("previous_size") * (1 + threshold))
                & (pl.col("level_after") >= pl.col("level_before") * (1 + threshold))
            )
        )
        frames.append(
            series.select(
                "org_code",
                dataset=pl.lit(rule["dataset"]),
                measure=pl.lit(rule["measure"]),
                period_month="period_month",
                previous_month="previous_month",
                previous_size="previous_size",
                size="size",
                change_share=pl.col("size") / pl.col("previous_size") - 1,
                threshold=pl.lit(threshold),
                reported_org_codes="reported_org_codes",
                straddled_financial_year=pl.when(pl.col("period_month").dt.month() != 4).then(
                    financial_year_of(pl.col("period_month"))
                ),
            )
        )
    jumps = pl.concat(frames) if frames else pl.DataFrame(schema={c: t for c, t in JUMP_COLUMNS.items()})
    return jumps.with_columns(
        action=pl.when(pl.col("straddled_financial_year").is_not_null())
        .then(pl.format("{} {} annual measures excluded", pl.col("straddled_financial_year"), pl.col("dataset")))
        .otherwise(pl.lit("none: the jump starts a financial year"))
    ).select([pl.col(c).cast(t) for c, t in JUMP_COLUMNS.items()])
