"""The GX check factory: partition-scoped validation, failing rows named, every evaluation validating afresh."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.staged.ods.assets import ods_trusts_expectations
from assets.staged.ods.etr import parse_etr
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, transaction


@pytest.fixture
def warehouse(tmp_path: Path, snapshot_dir: Path) -> WarehouseResource:
    resource = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    frame = parse_etr(snapshot_dir / "ods" / "2026" / "etr.csv", read_reference("nhs_regions")).with_columns(
        ods_vintage=pl.lit("2026"), source_file=pl.lit("etr.csv")
    )
    with resource.get_connection() as con, transaction(con):
        replace_table(con, "ods_trusts", frame)
    return resource


def _evaluate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    context = dg.build_asset_check_context(resources={"warehouse": warehouse})
    return ods_trusts_expectations(context)


def test_a_pass_validates_every_row_each_time(warehouse: WarehouseResource) -> None:
    for _ in range(2):  # no result cache: a second evaluation validates the rows again
        result = _evaluate(warehouse)
        assert result.passed and result.metadata["rows_validated"].value == 274
        assert result.metadata["expectations_failed"].value == 0


def test_a_failure_names_the_rows(warehouse: WarehouseResource) -> None:
    with warehouse.get_connection() as con:
        con.execute("UPDATE ods_trusts SET region_code = 'Y99' WHERE org_code = 'RBN'")
    for _ in range(2):
        result = _evaluate(warehouse)
        assert not result.passed
        assert "expect_column_values_to_be_in_set on column 'region_code': 1 unexpected value(s)" in result.description
        assert "org_code=RBN" in result.description


def test_a_pass_then_a_failure_then_a_pass_in_one_process_each_see_their_own_rows(warehouse: WarehouseResource) -> None:
    """The suite's data asset is made once per process; each evaluation must still validate its own frame."""
    assert _evaluate(warehouse).passed
    with warehouse.get_connection() as con:
        regions = con.sql("SELECT org_code, region_code FROM ods_trusts WHERE org_code IN ('RBN', 'RTH')").fetchall()
        con.execute("UPDATE ods_trusts SET region_code = 'Y99' WHERE org_code IN ('RBN', 'RTH')")
    failed = _evaluate(warehouse)
    assert not failed.passed
    assert "2 unexpected value(s)" in failed.description
    assert "org_code=RBN" in failed.description and "org_code=RTH" in failed.description
    with warehouse.get_connection() as con:
        con.executemany("UPDATE ods_trusts SET region_code = ? WHERE org_code = ?", [(r, o) for o, r in regions])
    assert _evaluate(warehouse).passed


def test_no_frame_outlives_its_check() -> None:
    import gc
    import weakref

    from pipeline.gx_validate import validate_frame

    frame = read_reference("nhs_regions").to_pandas()
    alive = weakref.ref(frame)
    assert validate_frame(frame, "ods_trusts", ["org_code"]).evaluated > 0
    del frame
    gc.collect()
    assert alive() is None
