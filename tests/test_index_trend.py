"""readiness_trend: every year on the indicators measured in every year, recomputed by hand from the real
snapshot build's indicators; trend charts draw it and nothing else."""

import duckdb
import polars as pl
import pytest

from assets.indicators.framework import load_framework
from assets.publish.charts import trends
from tests.conftest import SnapshotBuild


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(snapshot_build.published), read_only=True) as con:
        return {
            t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl()
            for t in ("readiness_trend", "indicators", "readiness_index")
        }


def test_every_year_rests_on_the_same_indicators(published) -> None:
    trend, indicators = published["readiness_trend"], published["indicators"]
    years = sorted(indicators["survey_year"].unique().to_list())
    scored = indicators.filter(pl.col("norm_score").is_not_null())
    in_every_year = [i for i, part in scored.group_by("indicator_id") if part["survey_year"].n_unique() == len(years)]
    common = sorted(i for (i,) in in_every_year)
    assert 3 <= len(common) <= 12  # the 2021-2023 extracts carry about a dozen questions
    (label,) = trend["indicator_set"].unique().to_list()
    assert label == f"common to {years[0]}-{years[-1]} ({len(common)}): {', '.join(common)}"
    assert sorted(trend["survey_year"].unique().to_list()) == years
    assert (trend["score_lo"] <= trend["score"]).all() and (trend["score"] <= trend["score_hi"]).all()


def test_a_trend_factor_score_is_the_weighted_mean_of_its_common_indicators(published) -> None:
    """Factor 6 of RBN in 2021, by hand: the weights of indicators.csv over the common indicators it has."""
    trend, indicators = published["readiness_trend"], published["indicators"]
    weights = load_framework().indicators.filter(pl.col("factor_id") == 6).select("indicator_id", "weight")
    common = trend["indicator_set"][0].split(": ", 1)[1].split(", ")
    rows = indicators.filter(
        (pl.col("org_code") == "RBN")
        & (pl.col("survey_year") == 2021)
        & pl.col("indicator_id").is_in(common)
        & pl.col("norm_score").is_not_null()
    ).join(weights, on="indicator_id")
    expected = sum(r["weight"] * r["norm_score"] for r in rows.iter_rows(named=True)) / rows["weight"].sum()
    row = trend.filter(
        (pl.col("org_code") == "RBN") & (pl.col("survey_year") == 2021) & (pl.col("component") == "factor_6")
    )
    assert row["score"].item() == pytest.approx(expected, abs=1e-12)
    assert row["n_indicators"].item() == rows.height >= 3


def test_trend_charts_draw_readiness_trend(published) -> None:
    rows = trends.trend_rows(published["readiness_index"], published["readiness_trend"], org_code="RBN")
    trend = published["readiness_trend"].filter(pl.col("org_code") == "RBN")
    assert rows.height == trend.height
    index = rows.filter(pl.col("series") == trends.INDEX_SERIES).sort("survey_year")
    expected = trend.filter(pl.col("component") == "index").sort("survey_year")["score"].to_list()
    assert index["value"].to_list() == pytest.approx(expected)
    # the published 2024 index (55 indicators) is not what the trend line shows for 2024
    published_2024 = published["readiness_index"].filter(
        (pl.col("org_code") == "RBN") & (pl.col("survey_year") == 2024)
    )
    assert index.filter(pl.col("survey_year") == 2024)["value"].item() != pytest.approx(
        published_2024["index_score"].item()
    )
