"""Resolve each reported provider code to an NHS trust in ODS `etr`, or mark it unmatched (never drop it)."""

from datetime import date

import polars as pl

MATCHED, SUCCESSOR, UNMATCHED = "ods_trust", "ods_successor", "unmatched"


def match_organisations(
    measures: pl.DataFrame, trust_codes: pl.Series, successors: pl.DataFrame, month: date
) -> pl.DataFrame:
    """Add `org_code` and `match_status` to every row.

    A code merged into a successor trust on or before the data month (data/reference/org_successors.csv,
    kind `merger`) resolves to the successor; any other code in ODS etr, open or closed, resolves to itself;
    the rest (independent providers, walk-in centres, ICBs, CSUs) stay in the table as `unmatched`.
    """
    merged = successors.filter((pl.col("kind") == "merger") & (pl.col("effective_date").str.to_date() <= pl.lit(month)))
    successor_of = dict(zip(merged["predecessor_code"], merged["successor_code"], strict=True))
    code = pl.col("reported_org_code").str.strip_chars().str.to_uppercase()
    return measures.with_columns(
        org_code=pl.when(code.is_in(list(successor_of)))
        .then(code.replace_strict(successor_of, default=None))
        .when(code.is_in(trust_codes.to_list()))
        .then(code),
        match_status=pl.when(code.is_in(list(successor_of)))
        .then(pl.lit(SUCCESSOR))
        .when(code.is_in(trust_codes.to_list()))
        .then(pl.lit(MATCHED))
        .otherwise(pl.lit(UNMATCHED)),
    )
