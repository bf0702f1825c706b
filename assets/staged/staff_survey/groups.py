"""Benchmarking groups: canonical names, aliases (sheet names and spellings across years) and org types."""

import re
from difflib import SequenceMatcher
from functools import cache

import polars as pl

from pipeline.errors import InputDataError
from pipeline.reference import read_reference

FUZZY_CUTOFF = 0.9
MIN_PREFIX = 20  # Excel cuts sheet names to 31 characters, so a long enough prefix identifies a group


def normalise(text: str) -> str:
    text = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@cache
def benchmarking_groups() -> pl.DataFrame:
    """benchmarking_group, org_type, is_trust (bool), aliases, source."""
    return read_reference("benchmarking_groups").with_columns(pl.col("is_trust") == "true")


@cache
def _spellings() -> dict[str, str]:
    spellings = {}
    for row in benchmarking_groups().iter_rows(named=True):
        for spelling in [row["benchmarking_group"], *filter(None, (row["aliases"] or "").split("|"))]:
            spellings[normalise(spelling)] = row["benchmarking_group"]
    return spellings


def match_group(text: str | None) -> str | None:
    """The canonical benchmarking group for a name, alias, truncated sheet name or near spelling."""
    if not text or not text.strip():
        return None
    key = normalise(text)
    spellings = _spellings()
    if key in spellings:
        return spellings[key]
    candidates = {group for spelling, group in spellings.items() if len(key) >= MIN_PREFIX and spelling.startswith(key)}
    if len(candidates) == 1:
        return candidates.pop()
    best = max(spellings, key=lambda s: SequenceMatcher(None, key, s).ratio())
    return spellings[best] if SequenceMatcher(None, key, best).ratio() >= FUZZY_CUTOFF else None


def with_group_details(
    frame: pl.DataFrame, *, file: str, sheet: str | None, column: str, row_column: str = "source_row"
) -> pl.DataFrame:
    """Replace `benchmarking_group` by its canonical name and add org_type and is_trust; unknown groups raise."""
    published = frame["benchmarking_group"].unique().to_list()
    mapping = {name: match_group(name) for name in published}
    unknown = [name for name, group in mapping.items() if group is None]
    if unknown:
        first = frame.filter(pl.col("benchmarking_group").is_in(unknown) | pl.col("benchmarking_group").is_null()).row(
            0, named=True
        )
        raise InputDataError(
            f"unknown benchmarking group {first['benchmarking_group']!r} (not in benchmarking_groups.csv)",
            file=file,
            sheet=sheet,
            row=first.get(row_column),
            column=column,
        )
    details = benchmarking_groups().select("benchmarking_group", "org_type", "is_trust")
    return frame.with_columns(pl.col("benchmarking_group").replace_strict(mapping, return_dtype=pl.String)).join(
        details, on="benchmarking_group", how="left"
    )
