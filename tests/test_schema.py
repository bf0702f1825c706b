"""One schema per table: data/dictionary/<table>.yaml gives the DDL, Polars schemas, GX suites, comments and the
types the publication gate checks; none of them is written by hand."""

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.publish.published_database import publish_atomically
from pipeline import dictionary, expectations
from pipeline.dictionary import DictionaryError
from pipeline.errors import PublicationBlockedError
from pipeline.settings import DICTIONARY_DIR, EXPECTATIONS_DIR, REFERENCE_DIR
from tests.test_publish import _warehouse_with_published_tables


def test_committed_expectation_suites_are_generated_from_the_dictionary() -> None:
    assert expectations.stale_suites() == [], "run `uv run python -m pipeline.expectations` and commit the result"


def test_every_generated_ddl_creates_exactly_the_declared_types() -> None:
    con = duckdb.connect()
    for doc in dictionary.all_tables().values():
        con.execute(doc.ddl())
        built = con.sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            params=[doc.name],
        ).fetchall()
        assert built == list(doc.types.items()), doc.name
        # the Polars schema round-trips through DuckDB to the same types
        frame = con.sql(f'SELECT * FROM "{doc.name}"').pl()
        assert frame.schema == doc.polars_schema(), doc.name


def test_dagster_column_schema_carries_the_declared_types() -> None:
    schema = dictionary.table("ods_trusts").column_schema()
    close_date = next(c for c in schema.columns if c.name == "close_date")
    assert close_date.type == "DATE" and "null while open" in close_date.description
    org_code = next(c for c in schema.columns if c.name == "org_code")
    assert org_code.constraints.nullable is False


def test_accepted_regions_come_from_the_reference_csv_by_name(tmp_path: Path) -> None:
    suite = expectations.suite_for(dictionary.table("ods_trusts"))
    (regions,) = [e for e in suite["expectations"] if e["kwargs"].get("column") == "region_code"]
    reference = pl.read_csv(REFERENCE_DIR / "nhs_regions.csv")
    assert regions["kwargs"]["value_set"] == reference["region_code"].to_list()
    assert "W00" in regions["kwargs"]["value_set"]  # nhs_regions.csv row 9, Wales
    # a region added to the reference CSV reaches the suite, and the committed suite is then stale
    references = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR, references)
    with (references / "nhs_regions.csv").open("a", encoding="utf-8") as handle:
        handle.write("Y99,Test region,SYNTHETIC\n")
    assert expectations.stale_suites(DICTIONARY_DIR, references, EXPECTATIONS_DIR) == ["ods_trusts.json"]


def _dictionary_copy(tmp_path: Path, table: str, old: str, new: str) -> Path:
    copy = tmp_path / "dictionary"
    shutil.copytree(DICTIONARY_DIR, copy)
    path = copy / f"{table}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def test_a_column_without_a_type_is_refused_naming_file_and_column(tmp_path: Path) -> None:
    """What a merge of an old-style entry (`name: description`) looks like."""
    copy = _dictionary_copy(
        tmp_path, "ods_trusts", "  postcode:\n    type: VARCHAR\n    description: Postcode", "  postcode: Postcode"
    )
    with pytest.raises(DictionaryError, match=r"data/dictionary/ods_trusts.yaml: column 'postcode' has no type"):
        expectations.generated_suites(copy)
    copy = _dictionary_copy(
        tmp_path / "2",
        "ods_trusts",
        "    type: DATE\n    description: Date the organisation opened",
        "    description: Date the organisation opened",
    )
    with pytest.raises(DictionaryError, match=r"ods_trusts.yaml: column 'open_date' has no type"):
        dictionary.load_directory(copy)


def test_the_gate_rejects_a_table_whose_column_type_differs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    con = _warehouse_with_published_tables(tmp_path / "w.duckdb")
    target = tmp_path / "out" / "pub.duckdb"
    publish_atomically(con, target, "snapshot")
    good = target.read_bytes()
    copy = _dictionary_copy(tmp_path, "ods_trusts", "  close_date:\n    type: DATE", "  close_date:\n    type: VARCHAR")
    monkeypatch.setattr(dictionary, "all_tables", lambda: dictionary.load_directory(copy))
    with pytest.raises(PublicationBlockedError) as error:
        publish_atomically(con, target, "snapshot")
    message = str(error.value)
    assert "table ods_trusts column close_date is DATE, but data/dictionary/ods_trusts.yaml declares VARCHAR" in message
    assert "last good file was kept" in message
    assert target.read_bytes() == good


def test_an_old_style_entry_is_upgraded_from_a_built_table_and_its_hand_written_suite(tmp_path: Path) -> None:
    """What the merge of a branch that added `column: description` entries and a hand-written suite needs."""
    from pipeline.dictionary_upgrade import upgrade_file

    current = dictionary.table("ods_trusts")
    folder = tmp_path / "dictionary"
    folder.mkdir()
    header = (DICTIONARY_DIR / "ods_trusts.yaml").read_text(encoding="utf-8").split("\ncolumns:")[0]
    old_columns = "".join(f"  {c}: {text}\n" for c, text in current.columns.items())
    (folder / "ods_trusts.yaml").write_text(f"{header}\ncolumns:\n{old_columns}", encoding="utf-8")
    suites = tmp_path / "expectations"
    suites.mkdir()
    hand_written = expectations.suite_for(current)
    hand_written["meta"].pop("generated_from")
    (suites / "ods_trusts.json").write_text(expectations.render(hand_written), encoding="utf-8")
    built = tmp_path / "built.duckdb"
    with duckdb.connect(str(built)) as con:
        con.execute(current.ddl())

    assert upgrade_file(folder / "ods_trusts.yaml", [built], suites, REFERENCE_DIR)
    upgraded = dictionary.load_directory(folder)["ods_trusts"]
    assert upgraded.types == current.types
    assert upgraded.column_tests == current.column_tests
    assert upgraded.row_tests == current.row_tests
    assert upgraded.column_tests["region_code"]["accepted_values"]["reference"] == "nhs_regions.csv"
    assert not upgrade_file(folder / "ods_trusts.yaml", [built], suites, REFERENCE_DIR), "already typed"
