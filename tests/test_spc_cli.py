"""`nhs-readiness spc FILE.csv`: an analyst's own series charted as XmR, printed as CSV."""

import io
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipeline.cli import build_parser, main
from tests.test_spc_xmr import RBN_SICKNESS

C, IMPROVE, CONCERN = "common_cause", "special_cause_improvement", "special_cause_concern"
RBN_MONTH_ENDS = [
    "30/04/2024",
    "31/05/2024",
    "30/06/2024",
    "31/07/2024",
    "31/08/2024",
    "30/09/2024",
    "31/10/2024",
    "30/11/2024",
    "31/12/2024",
    "31/01/2025",
    "28/02/2025",
    "31/03/2025",
]


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def rbn_csv(tmp_path: Path) -> Path:
    """RBN's real sickness absence rates (see tests/test_spc_xmr.py), dated as the source files date them."""
    rows = [f"{day},{rate},RBN" for day, rate in zip(RBN_MONTH_ENDS, RBN_SICKNESS, strict=True)]
    return write_csv(tmp_path / "rbn.csv", "DATE,SICKNESS_ABSENCE_RATE_PERCENT,ORG_CODE", rows)


RBN_ARGS = ["--date", "DATE", "--value", "SICKNESS_ABSENCE_RATE_PERCENT", "--improvement", "decrease"]


def run_spc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["spc", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_spc_prints_the_chart_as_csv(rbn_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_spc(
        capsys, str(rbn_csv), "--date", "DATE", "--value", "SICKNESS_ABSENCE_RATE_PERCENT", "--improvement", "decrease"
    )
    assert status == 0, err
    chart = pl.read_csv(io.StringIO(out), try_parse_dates=True)
    assert chart.columns == ["date", "value", "mean", "lpl", "upl", "point_type"]
    assert str(chart["date"][0]) == "2024-04-30" and chart["value"].to_list() == RBN_SICKNESS
    # worked by hand in tests/test_spc_xmr.py: mean 4.0675, limits 4.0675 ± 2.66 × 2.10 / 11
    assert chart["mean"].to_list() == pytest.approx([4.0675] * 12)
    assert chart["upl"][0] == pytest.approx(4.0675 + 2.66 * 2.10 / 11)
    assert chart["point_type"].to_list() == [C] * 4 + [IMPROVE] + [C] * 4 + [CONCERN, CONCERN, C]
    # 12 points meet the NHSRplotthedots threshold, so no warning
    assert err == ""


def test_spc_options_reach_the_calculation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # SYNTHETIC step series from the outlier-screen test: limits 11 ± 5.32 screened, 11 ± 10.1564 unscreened
    values = [20, 22, 20, 22, 20, 22, 0, 2, 0, 2, 0, 2]
    path = write_csv(tmp_path / "step.csv", "month,n", [f"2024-{m:02d}-01,{v}" for m, v in enumerate(values, 1)])
    args = (str(path), "--date", "month", "--value", "n")
    screened = pl.read_csv(io.StringIO(run_spc(capsys, *args)[1]))
    unscreened = pl.read_csv(io.StringIO(run_spc(capsys, *args, "--no-screen-outliers")[1]))
    assert screened["upl"][0] == pytest.approx(16.32)
    assert unscreened["upl"][0] == pytest.approx(11 + 2.66 * 42 / 11)
    # rebased at July: each half alternates ±1 about its own mean (21, then 1), moving ranges 2 → limits ± 5.32
    status, out, err = run_spc(capsys, *args, "--rebase", "2024-07-01")
    rebased = pl.read_csv(io.StringIO(out))
    assert status == 0
    assert rebased["mean"].to_list() == pytest.approx([21] * 6 + [1] * 6)
    assert rebased["lpl"].to_list() == pytest.approx([15.68] * 6 + [-4.32] * 6)
    assert rebased["point_type"].to_list() == [C] * 12
    assert "the limits from 2024-07-01 rest on only 6 values" in err
    # fixed after 12 of 12 points: the same as unfixed
    assert run_spc(capsys, *args, "--fix-after", "12")[1] == run_spc(capsys, *args)[1]


def test_spc_keeps_empty_values_as_missing_points(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "gaps.csv", "month,n", ["2024-01-01,1", "2024-02-01,", "2024-03-01,3"])
    status, out, _ = run_spc(capsys, str(path), "--date", "month", "--value", "n")
    assert status == 0
    # mean 2, one moving range of 2 across the empty month → limits 2 ± 5.32
    assert out.splitlines()[2] == "2024-02-01,,2.0,-3.32,7.32,"


COLUMNS = ["--date", "month", "--value", "n"]


@pytest.mark.parametrize(
    ("rows", "argv", "message"),
    [
        (
            ["2024-01-01,1"],
            ["--date", "when", "--value", "n"],
            "column 'when': no such column; the columns are month, n",
        ),
        (["2024-01-01,1"], ["--date", "month", "--value", "count"], "column 'count': no such column"),
        (["2024-01-01,1", "2024-13-01,2"], COLUMNS, "row 3, column 'month': '2024-13-01' is not a date in the format"),
        (["01/02/2024,1", "2024-03-01,2"], COLUMNS, "row 3, column 'month': '2024-03-01' is not a date"),
        (["2024-01-01,1", ",2"], COLUMNS, "row 3, column 'month': '' is not a date"),
        (["2024-01-01,1", "2024-02-01,1.5%"], COLUMNS, "row 3, column 'n': '1.5%' is not a number"),
        (["2024-01-01,1", "2024-02-01,inf"], COLUMNS, "row 3, column 'n': 'inf' is not a number"),
        (
            ["2024-01-01,1", "2024-01-01,2"],
            COLUMNS,
            "row 3, column 'month': the date 2024-01-01 appears more than once",
        ),
        (["2024-01-01,1"], COLUMNS, "too few points: the limits from 2024-01-01 would rest on 1 value(s)"),
        (["2024-01-01,1", "2024-02-01,"], COLUMNS, "too few points"),
        ([], COLUMNS, "has no data rows"),
        (["2024-01-01,1", "2024-02-01,2"], [*COLUMNS, "--fix-after", "6"], "no fewer than 12 points"),
        (["2024-01-01,1", "2024-02-01,2"], [*COLUMNS, "--rebase", "2025-01-01"], "rebase date 2025-01-01 must be"),
    ],
)
def test_spc_explains_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[str], argv: list[str], message: str
) -> None:
    path = write_csv(tmp_path / "series.csv", "month,n", rows)
    status, out, err = run_spc(capsys, str(path), *argv)
    assert status == 2 and out == ""
    assert message in err


def test_spc_says_when_the_file_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_spc(capsys, str(tmp_path / "absent.csv"), "--date", "d", "--value", "v")
    assert status == 2 and "file 'absent.csv': no such file" in err


def test_spc_help_has_an_example() -> None:
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    text = commands.choices["spc"].format_help()
    for expected in ("--improvement {increase,decrease,neutral}", "--no-screen-outliers", "--fix-after N", "examples:"):
        assert expected in text
    assert "nhs-readiness spc waits.csv --date month --value waiting_list --improvement decrease" in text


def test_spc_console_run(rbn_csv: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "spc", str(rbn_csv), *RBN_ARGS],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "date,value,mean,lpl,upl,point_type"
    # August 2024, 3.53: below the lower limit 3.559682, an improvement for sickness absence
    # (4.0675 ± 2.66 × 2.10 / 11 to 12 significant digits)
    assert lines[5] == "2024-08-31,3.53,4.0675,3.55968181818,4.57531818182,special_cause_improvement"
    assert len(lines) == 13
