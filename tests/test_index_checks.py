"""The structural rules of the published factor, barrier and index tables (synthetic hand-made rows), and the
blocking Dagster checks that apply them and the framework validation to a warehouse."""

import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.index import checks
from assets.index.assets import index_checks, score_checks
from assets.indicators import assets as indicator_assets
from assets.indicators.framework import load_framework
from pipeline import dictionary
from pipeline.errors import InputDataError
from pipeline.settings import FRAMEWORK_DIR
from pipeline.warehouse import WarehouseResource, replace_table
from tests.helpers.index_frames import ACUTE, organisations, people_promise, performance, survey_items

AMBULANCE = "Ambulance Trusts"


def _index(rows: list[tuple]) -> pl.DataFrame:
    """readiness_index rows: (org, group, index, lo, hi, rank, rank_lo, rank_hi, n_in_group, coverage, n_factors)."""
    return pl.DataFrame(
        rows,
        schema={
            "org_code": pl.String,
            "benchmarking_group": pl.String,
            "index_score": pl.Float64,
            "index_lo": pl.Float64,
            "index_hi": pl.Float64,
            "rank_in_group": pl.Int64,
            "rank_lo": pl.Int64,
            "rank_hi": pl.Int64,
            "n_in_group": pl.Int64,
            "coverage": pl.Float64,
            "n_factors": pl.Int64,
        },
        orient="row",
    ).with_columns(survey_year=pl.lit(2024, dtype=pl.Int64), ranked=pl.col("rank_in_group").is_not_null())


SOUND = [
    ("T1", ACUTE, 0.5, 0.2, 0.7, 1, 1, 2, 2, 0.9, 7),
    ("T2", ACUTE, 0.1, -0.1, 0.3, 2, 1, 2, 2, 0.8, 7),
    ("T3", ACUTE, 0.3, 0.0, 0.4, None, None, None, 2, 0.3, 3),  # listed, not ranked: coverage below the minimum
    ("A1", AMBULANCE, None, None, None, None, None, None, 0, 0.0, 0),  # nothing measured
]


def _codes(frame: pl.DataFrame) -> list[str]:
    return frame["org_code"].to_list()


def test_a_sound_index_breaks_no_rule() -> None:
    index = _index(SOUND)
    for rule in (
        checks.index_intervals_out_of_order,
        checks.ranked_without_intervals,
        checks.ranks_outside_group,
        checks.coverage_outside_unit_interval,
        checks.unmeasured_index_with_score,
    ):
        assert rule(index).is_empty(), rule.__name__


def test_each_index_rule_names_the_rows_that_break_it() -> None:
    def changed(code: str, **values: object) -> pl.DataFrame:
        index = _index(SOUND)
        return index.with_columns(
            pl.when(pl.col("org_code") == code).then(pl.lit(v)).otherwise(pl.col(c)).alias(c) for c, v in values.items()
        )

    assert _codes(checks.index_intervals_out_of_order(changed("T1", index_lo=0.6))) == ["T1"]
    assert _codes(checks.index_intervals_out_of_order(changed("T2", rank_hi=1))) == ["T2"]
    # an unranked trust keeps its index interval: it must contain the index too
    assert _codes(checks.index_intervals_out_of_order(changed("T3", index_hi=None))) == ["T3"]
    assert _codes(checks.ranked_without_intervals(changed("T1", rank_lo=None))) == ["T1"]
    assert _codes(checks.ranked_without_intervals(changed("T2", index_hi=None))) == ["T2"]
    assert _codes(checks.ranks_outside_group(changed("T2", rank_in_group=3, rank_hi=3))) == ["T2"]
    assert _codes(checks.ranks_outside_group(changed("T1", rank_lo=0))) == ["T1"]
    # n_in_group must count the group's ranked trusts (2 here)
    assert _codes(checks.ranks_outside_group(changed("T1", n_in_group=3))) == ["T1"]
    assert _codes(checks.coverage_outside_unit_interval(changed("T1", coverage=1.2))) == ["T1"]
    assert _codes(checks.coverage_outside_unit_interval(changed("T2", coverage=None))) == ["T2"]
    assert _codes(checks.unmeasured_index_with_score(changed("A1", index_score=0.0))) == ["A1"]


def test_an_unmeasured_factor_must_be_null_not_zero() -> None:
    factors = pl.DataFrame(
        {
            "org_code": ["T1", "T1", "T2"],
            "factor_id": [1, 2, 1],
            "score": [0.4, None, 0.0],
            "score_lo": [0.1, None, -0.2],
            "score_hi": [0.6, None, 0.3],
            "coverage": [1.0, 0.0, 0.5],
            "n_indicators": [3, 0, 1],
            "status": ["measured", "not measured", "measured"],
        }
    )
    assert checks.unmeasured_with_score(factors).is_empty()
    assert checks.score_intervals_out_of_order(factors).is_empty()
    filled = factors.with_columns(score=pl.col("score").fill_null(0.0))
    assert _codes(checks.unmeasured_with_score(filled)) == ["T1"]
    assert _codes(checks.unmeasured_with_score(factors.with_columns(score=None))) == ["T1", "T2"]
    assert _codes(checks.score_intervals_out_of_order(factors.with_columns(score_hi=pl.col("score") - 0.1))) == [
        "T1",
        "T2",
    ]


@pytest.fixture
def warehouse(tmp_path: Path) -> WarehouseResource:
    """A warehouse holding SYNTHETIC staged tables (three trusts, two survey questions, no performance rows, no
    trust context)."""
    resource = WarehouseResource(database=str(tmp_path / "warehouse.duckdb"))
    items = survey_items(
        [
            (t, 2024, q, 6.0 + i / 10, 60.0 + i, 20.0, 500)
            for i, t in enumerate(("T1", "T2", "T3"))
            for q in ("q3i", "q9a")
        ]
    )
    tables = {
        "staff_survey_items": items,
        "people_promise_scores": people_promise(),
        "survey_organisations": organisations([(t, 2024, ACUTE) for t in ("T1", "T2", "T3")]),
        "performance_annual": performance(),
        "trust_context": pl.DataFrame(schema=dictionary.table("trust_context").polars_schema()),
    }
    with resource.get_connection() as con:
        for name, frame in tables.items():
            replace_table(con, name, frame)
    return resource


def test_an_invalid_framework_file_stops_the_build_naming_row_and_field(
    warehouse: WarehouseResource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "framework"
    shutil.copytree(FRAMEWORK_DIR, broken)
    path = broken / "indicators.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(
        factor_id=pl.when(pl.col("indicator_id") == "team_freedom").then(pl.lit("8")).otherwise("factor_id")
    ).write_csv(path)
    row = frame["indicator_id"].to_list().index("team_freedom") + 2
    monkeypatch.setattr(indicator_assets, "load_framework", lambda: load_framework(broken))
    with pytest.raises(InputDataError, match=rf"file 'indicators.csv', row {row}, column 'factor_id': factor 8"):
        indicator_assets.indicator_catalogue(warehouse=warehouse)
    result = indicator_assets.framework_validation(warehouse=warehouse)
    assert not result.passed
    assert result.description.startswith(f"file 'indicators.csv', row {row}, column 'factor_id'")


def test_an_indicator_without_data_fails_the_framework_check(warehouse: WarehouseResource) -> None:
    """The synthetic warehouse has survey rows for q3i and q9a only: every other survey indicator has no data,
    while the performance indicators cannot be judged (no performance data in this build)."""
    result = indicator_assets.framework_validation(warehouse=warehouse)
    assert not result.passed
    assert result.description.startswith("file 'indicators.csv', row 3, column 'question_id': no year of data provides")


def test_a_broken_published_table_fails_its_blocking_check(warehouse: WarehouseResource) -> None:
    by_name = {
        c.check_specs_by_output_name and next(iter(c.check_keys)).name: c for c in [*index_checks, *score_checks]
    }
    with warehouse.get_connection() as con:
        replace_table(con, "readiness_index", _index(SOUND).with_columns(index_lo=pl.col("index_score") + 1))
    result = by_name["index_intervals_contain_points"](warehouse=warehouse)
    assert isinstance(result, dg.AssetCheckResult) and not result.passed
    assert result.metadata["failing_rows"].value == 3
    assert result.description.startswith("3 row(s) break the rule, e.g. (T1, 2024); (T2, 2024); (T3, 2024)")
    assert by_name["ranks_within_group"](warehouse=warehouse).passed
