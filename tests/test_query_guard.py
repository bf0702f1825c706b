"""`nhs-readiness query` reads the published file and nothing else: refusals, statements without rows, no tracebacks."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main


@pytest.fixture
def published(tmp_path: Path) -> Path:
    db = tmp_path / "published.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE organisations AS SELECT 'RBN' AS org_code, 'North West' AS region_name")
    con.close()
    return db


def refused_statements(out: Path, own_csv: Path) -> list[str]:
    return [
        f"COPY (SELECT 1) TO '{out}'",
        f"COPY organisations TO '{out}' (FORMAT csv)",
        f"EXPORT DATABASE '{out}'",
        f"ATTACH '{out}' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"SELECT * FROM read_csv('{own_csv}')",
        f"SELECT * FROM read_parquet('{own_csv}')",
        f"SELECT * FROM read_json('{own_csv}')",
        f"SELECT * FROM '{own_csv}'",
        "SELECT * FROM read_parquet('https://example.org/x.parquet')",
        f"SELECT * FROM glob('{own_csv.parent}/*')",
        "SET enable_external_access = true",
        f"SELECT 1; COPY (SELECT 1) TO '{out}'",
        "DELETE FROM organisations",
    ]


def test_each_refused_statement_exits_2_with_one_line_and_writes_nothing(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own_csv = tmp_path / "mine.csv"
    own_csv.write_text("a\n1\n")
    out = tmp_path / "written" / "x.csv"
    out.parent.mkdir()
    before = published.read_bytes()
    for sql in refused_statements(out, own_csv):
        code = main(["query", sql, "--database", str(published)])
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == 2, (sql, captured.err)
        assert len(lines) == 1 and lines[0].startswith("nhs-readiness query: refused:"), (sql, captured.err)
        assert captured.out == "", sql
        assert list(out.parent.iterdir()) == [], sql
    assert published.read_bytes() == before


def test_copy_to_in_a_real_process_prints_no_traceback_and_writes_nothing(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "query", f"COPY (SELECT 1) TO '{out}'", "--database", str(published)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "COPY is refused" in result.stderr
    assert not out.exists()


def test_local_files_are_read_only_with_the_explicit_option(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    own = tmp_path / "mine.csv"
    own.write_text("org_code,staff\nRBN,4200\n")
    sql = f"SELECT o.region_name, m.staff FROM organisations o JOIN read_csv('{own}') m USING (org_code)"
    assert main(["query", sql, "--database", str(published)]) == 2  # refused without the option
    capsys.readouterr()
    assert main(["query", sql, "--database", str(published), "--format", "csv", "--allow-local-files"]) == 0
    assert capsys.readouterr().out == "region_name,staff\nNorth West,4200\n"
    # the option reads files; it never allows writing them
    out = tmp_path / "x.csv"
    assert main(["query", f"COPY (SELECT 1) TO '{out}'", "--database", str(published), "--allow-local-files"]) == 2
    assert not out.exists()
    assert main(["query", "INSTALL httpfs", "--database", str(published), "--allow-local-files"]) == 2


def test_statement_without_a_result_set_prints_done(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "CREATE TEMP TABLE scratch AS SELECT 1 AS x", "--database", str(published)]) == 0
    assert capsys.readouterr().out.strip() == "done (the statement returns no rows)"
    # several statements: the last one's rows
    sql = "SET VARIABLE code = 'RBN'; SELECT region_name FROM organisations WHERE org_code = getvariable('code')"
    assert main(["query", sql, "--database", str(published), "--format", "csv"]) == 0
    assert capsys.readouterr().out == "region_name\nNorth West\n"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", "syntax error"),
        ("SELECT * FROM no_such_table", "no_such_table"),
        ("", "no SQL statement"),
    ],
)
def test_user_errors_are_one_line_exit_1(
    published: Path, sql: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["query", sql, "--database", str(published)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_file_that_is_not_a_database_is_one_line_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "not.duckdb"
    bogus.write_text("hello")
    assert main(["query", "SELECT 1", "--database", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot open" in err
