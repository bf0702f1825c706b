"""Parquet copies of the published tables, and the atomic swap of a published folder."""

import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.publish import atomic
from assets.publish.published_database import export_parquet, publish_atomically
from pipeline import dictionary
from tests.test_publish import _warehouse_with_published_tables


@pytest.fixture
def published(tmp_path: Path) -> Path:
    con = _warehouse_with_published_tables(tmp_path / "w.duckdb")
    # synthetic rows in reverse key order, so the export has to sort them
    con.execute("DELETE FROM ods_trusts")
    con.execute(
        "INSERT INTO ods_trusts (org_code, org_name) SELECT 'Z' || lpad(i::VARCHAR, 2, '0'), 'Synthetic trust ' || i "
        "FROM range(30, 0, -1) t(i)"
    )
    target = tmp_path / "out" / "pub.duckdb"
    publish_atomically(con, target, "snapshot")
    con.close()
    return target


def test_every_published_table_has_a_parquet_copy_in_key_order(published: Path) -> None:
    parquet = published.parent / "parquet"
    assert sorted(p.stem for p in parquet.iterdir()) == sorted(d.name for d in dictionary.published_tables())
    trusts = pl.read_parquet(parquet / "ods_trusts.parquet")
    assert trusts.columns == list(dictionary.table("ods_trusts").columns)
    assert trusts["org_code"].to_list() == [f"Z{i:02d}" for i in range(1, 31)]
    con = duckdb.connect(str(published), read_only=True)
    for doc in dictionary.published_tables():
        in_file = con.sql(f'SELECT count(*) FROM "{doc.name}"').fetchall()[0][0]
        assert pl.read_parquet(parquet / f"{doc.name}.parquet").height == in_file, doc.name


def test_parquet_export_is_byte_for_byte_repeatable(published: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    again.mkdir()
    export_parquet(published, again)
    first = published.parent / "parquet"
    for name in ("ods_trusts", "data_dictionary", "data_tables"):  # build_info carries the build time
        assert (again / f"{name}.parquet").read_bytes() == (first / f"{name}.parquet").read_bytes(), name


def test_building_directory_swaps_in_only_a_finished_folder(tmp_path: Path) -> None:
    target = tmp_path / "report"
    with atomic.building_directory(target) as temp:
        assert temp.name == f"report.tmp-{os.getpid()}"
        (temp / "index.html").write_text("first")
    assert (target / "index.html").read_text() == "first"

    with pytest.raises(RuntimeError), atomic.building_directory(target) as temp:
        (temp / "index.html").write_text("half")
        raise RuntimeError("the build failed half way")
    assert (target / "index.html").read_text() == "first"

    with atomic.building_directory(target) as temp:
        (temp / "index.html").write_text("second")
        assert (target / "index.html").read_text() == "first", "the old folder stays readable until the swap"
    assert (target / "index.html").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_exchange_fallback_and_stale_temps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "parquet"
    target.mkdir()
    (target / "old").write_text("old")
    stale = tmp_path / "parquet.tmp-999999999"  # no such process
    stale.mkdir()
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)
    with atomic.building_directory(target) as temp:
        (temp / "new").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parquet"]


def test_directories_are_exchanged_in_one_step_on_linux(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "f").write_text("1")
    (second / "f").write_text("2")
    exchanged = atomic._exchange(first, second)
    # where renameat2(RENAME_EXCHANGE) is not available it says so and moves nothing: the caller then falls back to
    # the two renames tested above
    assert ((first / "f").read_text(), (second / "f").read_text()) == (("2", "1") if exchanged else ("1", "2"))
