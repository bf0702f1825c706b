"""Barriers with their own evidence: declared in data/framework/barrier_indicators.csv, and the blocking check that
no barrier is a copy of a factor (correlation ceiling within a benchmarking group), on the real snapshot build."""

from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from assets.index import checks
from assets.index.assets import barriers_are_not_copies_of_factors
from assets.indicators.framework import load_framework
from pipeline.warehouse import WarehouseResource, replace_table
from tests.conftest import SnapshotBuild


@pytest.fixture(scope="module")
def scores(snapshot_build: SnapshotBuild) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(snapshot_build.warehouse), read_only=True) as con:
        return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl() for t in ("factor_scores", "barrier_scores")}


def test_every_barrier_rests_on_indicators_of_its_own() -> None:
    indicators = load_framework().indicators
    for barrier in ("recognition", "motivation", "headspace", "capability"):
        own = indicators.filter((pl.col("barrier") == barrier) & pl.col("factor_id").is_null())
        assert own.height >= 2, barrier
        assert (own["declared_in"] == "barrier_indicators.csv").all()
        assert own["rationale"].str.len_chars().min() > 20


def test_no_barrier_of_the_real_build_copies_a_factor(scores) -> None:
    settings = load_framework().settings
    copies = checks.barrier_factor_copies(
        scores["factor_scores"], scores["barrier_scores"], settings.barrier_factor_max_correlation, settings.min_peers
    )
    assert copies.is_empty()
    # by hand for one pair: headspace against factor 6 among the 2024 acute trusts, Pearson r with NumPy
    keys = ["org_code", "survey_year", "benchmarking_group"]
    acute = "Acute and Acute & Community Trusts"
    pair = (
        scores["barrier_scores"]
        .filter((pl.col("barrier") == "headspace") & (pl.col("survey_year") == 2024))
        .select(*keys, barrier="score")
        .join(scores["factor_scores"].filter(pl.col("factor_id") == 6).select(*keys, factor="score"), on=keys)
        .filter(pl.col("benchmarking_group") == acute)
        .drop_nulls()
    )
    r = float(np.corrcoef(pair["barrier"].to_numpy(), pair["factor"].to_numpy())[0, 1])
    every = checks.barrier_factor_copies(scores["factor_scores"], scores["barrier_scores"], -1.0, 5)
    listed = every.filter(
        (pl.col("barrier") == "headspace") & (pl.col("factor_id") == 6) & (pl.col("benchmarking_group") == acute)
    )
    assert listed["r"].item() == pytest.approx(r, abs=1e-12) and listed["n"].item() == pair.height > 100
    assert r < settings.barrier_factor_max_correlation


def test_a_barrier_copied_from_a_factor_fails_the_blocking_check(scores, tmp_path: Path) -> None:
    (spec,) = barriers_are_not_copies_of_factors.check_specs
    assert spec.blocking
    warehouse = WarehouseResource(database=str(tmp_path / "warehouse.duckdb"))
    factors, barriers = scores["factor_scores"], scores["barrier_scores"]
    with warehouse.get_connection() as con:
        replace_table(con, "factor_scores", factors)
        replace_table(con, "barrier_scores", barriers)
    assert barriers_are_not_copies_of_factors(warehouse=warehouse).passed
    # the old framework's failure: capability scored from factor 4's indicators, r = 1.000
    factor_4 = factors.filter(pl.col("factor_id") == 4).select("org_code", "survey_year", factor_4="score")
    copied = (
        barriers.join(factor_4, on=["org_code", "survey_year"], how="left")
        .with_columns(score=pl.when(pl.col("barrier") == "capability").then("factor_4").otherwise("score"))
        .drop("factor_4")
    )
    with warehouse.get_connection() as con:
        replace_table(con, "barrier_scores", copied)
    result = barriers_are_not_copies_of_factors(warehouse=warehouse)
    assert isinstance(result, dg.AssetCheckResult) and not result.passed
    assert "capability ~ factor 4 r = 1.000" in result.description
    assert result.metadata["pairs_above"].value >= 5  # every group of 2024 with at least five trusts
