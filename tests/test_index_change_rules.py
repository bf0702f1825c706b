"""Change that means change: no comparison across a merger (data/reference/org_successors.csv) and none on fewer
than min_common_indicators common indicators, on the real snapshot build's indicators."""

import duckdb
import polars as pl
import pytest

from assets.index.change import merger_breaks, year_on_year_change
from assets.indicators.framework import load_framework
from pipeline.reference import read_reference
from tests.conftest import SnapshotBuild


@pytest.fixture(scope="module")
def indicators(snapshot_build: SnapshotBuild) -> pl.DataFrame:
    with duckdb.connect(str(snapshot_build.warehouse), read_only=True) as con:
        return con.sql("SELECT * FROM indicators WHERE survey_year IN (2022, 2023) ORDER BY ALL").pl()


def test_the_real_successor_file_lists_the_2023_to_2025_mergers_with_dates_and_sources() -> None:
    successors = {r["predecessor_code"]: r for r in read_reference("org_successors").iter_rows(named=True)}
    assert (successors["RVY"]["successor_code"], successors["RVY"]["effective_date"]) == ("RBN", "2023-07-01")
    assert (successors["RAP"]["successor_code"], successors["RAP"]["effective_date"]) == ("RAL", "2025-01-01")
    assert all(len(r["source"]) > 40 for r in successors.values())
    # the July 2023 merger falls between the 2022 and 2023 surveys' fieldwork, the January 2025 one after 2024's
    breaks = set(merger_breaks(read_reference("org_successors"), [2021, 2022, 2023, 2024]).iter_rows())
    assert {("RBN", 2023), ("RVY", 2023)} <= breaks
    assert ("RBN", 2024) not in breaks and ("RAL", 2024) not in breaks


def test_a_merger_in_org_successors_removes_that_trusts_change_row(indicators) -> None:
    framework = load_framework()
    no_mergers = read_reference("org_successors").filter(pl.col("kind") != "merger")
    without_rule = year_on_year_change(indicators, framework, no_mergers)
    with_rule = year_on_year_change(indicators, framework)
    rbn = pl.col("org_code") == "RBN"
    # RBN's 2023 index change (issue 14: -0.71, "exceeds sampling error") compared two different organisations
    assert without_rule.filter(rbn & (pl.col("component") == "index")).height == 1
    assert with_rule.filter(rbn).is_empty()
    # the April 2023 merger of RA4 into RH5 is in the same window; every other trust's rows are untouched
    merged = pl.col("org_code").is_in(["RBN", "RVY", "RH5", "RA4"])
    assert without_rule.filter(pl.col("org_code") == "RH5").height > 0
    assert with_rule.equals(without_rule.filter(~merged))


def test_a_component_needs_the_minimum_of_common_indicators(indicators) -> None:
    framework = load_framework()
    changes = year_on_year_change(indicators, framework)
    assert changes.height > 0 and (changes["n_common_indicators"] >= 3).all()
    loose = year_on_year_change(indicators, framework.with_settings(min_common_indicators=1))
    thin = loose.filter(pl.col("n_common_indicators") < 3)
    assert thin.height > 0  # 2022-2023 share about ten questions: some factors rest on one or two of them
    assert changes.height == loose.height - thin.height
    index = changes.filter(pl.col("component") == "index")
    factor_totals = (
        changes.filter(pl.col("component") != "index")
        .group_by("org_code")
        .agg(total=pl.col("n_common_indicators").sum())
    )
    # the index row counts the common indicators over the trust's factors (those factors kept or not)
    joined = index.join(factor_totals, on="org_code", how="left")
    assert (joined["n_common_indicators"] >= joined["total"].fill_null(0)).all()
