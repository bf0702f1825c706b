"""The command line: help text, argument parsing and read-only queries."""

import gc
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline import cli
from pipeline.cli import build_parser, main, parse_years


def test_help_explains_both_commands_with_examples() -> None:
    text = build_parser().format_help()
    for expected in ("run", "query", "examples:", "nhs-readiness run --source web", "NHS_READINESS_WAREHOUSE"):
        assert expected in text


def test_console_script_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--help"], capture_output=True, text=True, check=True
    )
    assert "--source {snapshot,web}" in result.stdout and "--years" in result.stdout


def test_the_program_exits_with_the_commands_code_and_its_objects_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The console script runs `program`, which freezes what the command built so interpreter shutdown does not
    walk it; `main`, which tests and Python callers use, never freezes their process."""
    monkeypatch.setattr(cli, "main", lambda own_process: 3 if own_process else 0)
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as exit_:
            cli.program()
        assert exit_.value.code == 3
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("text", "years"), [("2024", {2024}), ("2021-2023", {2021, 2022, 2023}), ("2021,2024", {2021, 2024})]
)
def test_parse_years(text: str, years: set[int]) -> None:
    assert parse_years(text) == years


def test_query_is_read_only_and_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 'RBN' AS org_code, 2024 AS survey_year")
    con.close()
    assert main(["query", "SELECT * FROM t", "--format", "json", "--database", str(db)]) == 0
    assert json.loads(capsys.readouterr().out) == [{"org_code": "RBN", "survey_year": 2024}]
    assert main(["query", "SELECT * FROM t", "--format", "csv", "--database", str(db)]) == 0
    assert capsys.readouterr().out == "org_code,survey_year\nRBN,2024\n"
    assert main(["query", "DELETE FROM t", "--database", str(db)]) == 2
    assert "read-only" in capsys.readouterr().err


def test_query_without_a_published_file_says_what_to_do(tmp_path: Path, capsys) -> None:
    assert main(["query", "SELECT 1", "--database", str(tmp_path / "missing.duckdb")]) == 2
    assert "run `nhs-readiness run` first" in capsys.readouterr().err


def test_run_whose_downstream_was_skipped_says_nothing_was_published(
    tmp_path: Path, monkeypatch, capsys, isolated_outputs
) -> None:
    """A missing upstream file that only downstream assets read (the engagement panel, say) skips the downstream job,
    so nothing is published: the command must say so and exit non-zero, not report a publication."""
    import pipeline.runner as runner
    from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB

    monkeypatch.setenv("NHS_READINESS_PUBLISHED_DIR", str(tmp_path / "published"))
    skipped = runner.BuildOutcome(
        succeeded=[runner.PlannedRun(REFERENCE_JOB, "reference")],
        skipped=[(runner.PlannedRun(DOWNSTREAM_JOB, "downstream"), "the bundled snapshot has no engagement panel")],
    )
    monkeypatch.setattr(runner, "execute_plan", lambda defs, plan, reporter, *_args, **_kw: skipped)
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "NOTHING PUBLISHED" in err
    assert f"{tmp_path / 'published' / 'nhs_change_readiness.duckdb'} does not exist yet" in err
