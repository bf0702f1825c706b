"""Resolve each reported provider code to an NHS trust in ODS `etr`, or mark it unmatched (never drop it)."""

from datetime import date

import polars as pl

from pipeline.reference import read_reference

MATCHED, SUCCESSOR, CODE_TABLE, UNMATCHED = "ods_trust", "ods_successor", "code_table", "unmatched"


def code_table_codes() -> pl.Series:
    """Trust codes missing from the bundled ODS etr exports, documented in data/reference/ods_code_table.csv."""
    return read_reference("ods_code_table")["org_code"]


def match_organisations(
    measures: pl.DataFrame,
    trust_codes: pl.Series,
    successors: pl.DataFrame,
    month: date,
    code_table: pl.Series | None = None,
) -> pl.DataFrame:
    """Add `org_code` and `match_status` to every row.

    A code merged into a successor trust on or before the data month (data/reference/org_successors.csv,
    kind `merger`) resolves to the successor; any other code in ODS etr, open or closed, resolves to itself, and
    so does a code of the documented code table (`code_table`, trusts the etr exports lack such as TAD); the
    rest (independent providers, walk-in centres, ICBs, CSUs) stay in the table as `unmatched`.
    """
    merged = successors.filter((pl.col("kind") == "merger") & (pl.col("effective_date").str.to_date() <= pl.lit(month)))
    successor_of = dict(zip(merged["predecessor_code"], merged["successor_code"], strict=True))
    code = pl.col("reported_org_code").str.strip_chars().str.to_uppercase()
    in_ods = code.is_in(trust_codes.to_list())
    in_table = code.is_in([] if code_table is None else code_table.to_list())
    return measures.with_columns(
        org_code=pl.when(code.is_in(list(successor_of)))
        .then(code.replace_strict(successor_of, default=None))
        .when(in_ods | in_table)
        .then(code),
        match_status=pl.when(code.is_in(list(successor_of)))
        .then(pl.lit(SUCCESSOR))
        .when(in_ods)
        .then(pl.lit(MATCHED))
        .when(in_table)
        .then(pl.lit(CODE_TABLE))
        .otherwise(pl.lit(UNMATCHED)),
    )
