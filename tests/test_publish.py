"""The published file is replaced atomically and only by a build that meets the documented contract."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.publish.gate import contract_problems
from assets.publish.published_database import publish_atomically, source_tables
from pipeline import dictionary
from pipeline.errors import PublicationBlockedError


def _warehouse_with_published_tables(path: Path) -> duckdb.DuckDBPyConnection:
    """Every published source table from its generated DDL, one all-null row each (SYNTHETIC rows: the gate only
    needs shapes and types)."""
    con = duckdb.connect(str(path))
    for name in source_tables():
        con.execute(dictionary.table(name).ddl())
        con.execute(f'INSERT INTO "{name}" DEFAULT VALUES')
    con.execute(
        "CREATE TABLE source_files_used AS SELECT 'ods' AS dataset, '' AS partition_key, 'etr' AS product, "
        "'2026' AS period, 'etr.csv' AS official_name, 'https://example.invalid' AS url, 'abc' AS sha256, "
        "1::BIGINT AS bytes, '2026-01-01' AS fetched_at, 'snapshot' AS origin"
    )
    return con


def test_publish_builds_contract_tables_and_dictionary(tmp_path: Path) -> None:
    con = _warehouse_with_published_tables(tmp_path / "w.duckdb")
    target = tmp_path / "out" / "pub.duckdb"
    counts = publish_atomically(con, target, "snapshot")
    assert set(source_tables()) <= counts.keys()
    pub = duckdb.connect(str(target), read_only=True)
    assert contract_problems(pub) == []
    described = pub.sql("SELECT count(*) FROM data_dictionary WHERE table_name = 'ods_trusts'").fetchall()[0][0]
    assert described == len(dictionary.table("ods_trusts").columns)
    comment = pub.sql(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'ods_trusts' AND column_name = 'close_date'"
    ).fetchall()[0][0]
    assert comment == dictionary.table("ods_trusts").columns["close_date"]
    assert pub.sql("SELECT source_mode, sha256 FROM build_info").fetchall() == [("snapshot", "abc")]
    leftovers = sorted(p.name for p in tmp_path.joinpath("out").iterdir())
    assert leftovers == ["parquet", "pub.duckdb"], "no temporary file or folder left beside the target"


def test_a_build_that_breaks_the_contract_keeps_the_last_good_file(tmp_path: Path) -> None:
    con = _warehouse_with_published_tables(tmp_path / "w.duckdb")
    target = tmp_path / "pub.duckdb"
    publish_atomically(con, target, "snapshot")
    good = target.read_bytes()
    good_parquet = (tmp_path / "parquet" / "ods_trusts.parquet").read_bytes()
    con.execute("ALTER TABLE ods_trusts ADD COLUMN surprise VARCHAR")
    con.execute("INSERT INTO ods_trusts SELECT * FROM ods_trusts")  # duplicated key too
    with pytest.raises(PublicationBlockedError, match="duplicated key") as error:
        publish_atomically(con, target, "snapshot")
    assert target.read_bytes() == good
    assert (tmp_path / "parquet" / "ods_trusts.parquet").read_bytes() == good_parquet
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("w.duckdb")) == ["parquet", "pub.duckdb"]
    assert "last good file was kept" in str(error.value)


def test_gate_reports_missing_and_undocumented_columns(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "x.duckdb"))
    con.register("frame", pl.DataFrame({"org_code": ["R0A"], "unexpected": [1]}))
    con.execute("CREATE TABLE ods_trusts AS SELECT * FROM frame")
    problems = contract_problems(con)
    assert any("ods_trusts lacks documented column(s)" in p and "'org_name'" in p for p in problems)
    assert any("undocumented column(s) ['unexpected']" in p for p in problems)
    assert any(p == "table build_info is missing" for p in problems)
