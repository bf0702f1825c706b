"""RTT full-extract parser on the real April 2026 zip, and on broken trimmed copies of it."""

import zipfile
from datetime import date
from pathlib import Path

import pytest

from assets.staged.performance.measures import england_from_providers
from assets.staged.rtt.parse import parse_rtt_zip
from pipeline.errors import InputDataError
from tests.helpers.performance import measure_of

ZIP = "rtt/20260430-RTT-April-2026-full-extract.csv.zip"
MEMBER = "20260430-RTT-April-2026-full-extract.csv"


@pytest.fixture(scope="module")
def april_2026(real_data: Path):
    return parse_rtt_zip(real_data / ZIP, date(2026, 4, 1), "20260430-RTT-April-2026-full-extract.csv.zip")


def test_england_matches_nhs_england_published_figures(april_2026) -> None:
    # PROVENANCE.md (rtt): Part_2, C_999 over all rows = 7,123,980 pathways, 64.9% within 18 weeks, 100,665 at 52+
    england = {r["measure"]: r for r in england_from_providers(april_2026.measures).iter_rows(named=True)}
    assert england["rtt_incomplete"]["value"] == 7_123_980
    assert round(england["rtt_within_18w_pct"]["value"], 1) == 64.9
    assert england["rtt_within_18w_pct"]["denominator"] == 7_123_980
    assert england["rtt_52w_plus"]["value"] == 100_665
    assert april_2026.file_totals.is_empty()  # the extract has no England row


def test_two_trusts_summed_over_commissioners(april_2026) -> None:
    m = april_2026.measures
    # RTH: 101 Part_2 / C_999 rows (one per commissioner), the first on line 135791 of the CSV in the zip;
    # 'Total All' (column 121) sums to 90,210, the buckets 'Gt 00 To 01' … 'Gt 17 To 18' (columns 14-31) to
    # 55,998 (62.1%, as PROVENANCE.md states), and 'Gt 52 To 53' … 'Gt 104 Weeks' (columns 66-118) to 1,599
    rth = measure_of(m, "RTH", "rtt_within_18w_pct")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (55_998, 90_210, 135_791)
    assert round(rth["value"], 1) == 62.1
    assert measure_of(m, "RTH", "rtt_incomplete")["value"] == 90_210
    assert measure_of(m, "RTH", "rtt_52w_plus")["value"] == 1_599
    # RGT: 97 rows from line 145644: 59,754 pathways, 37,901 within 18 weeks, 940 at 52+ weeks
    assert measure_of(m, "RGT", "rtt_incomplete")["value"] == 59_754
    assert measure_of(m, "RGT", "rtt_within_18w_pct")["numerator"] == 37_901
    assert measure_of(m, "RGT", "rtt_52w_plus")["value"] == 940
    assert (
        measure_of(m, "RGT", "rtt_52w_plus")["reported_org_name"]
        == "CAMBRIDGE UNIVERSITY HOSPITALS NHS FOUNDATION TRUST"
    )


@pytest.fixture(scope="module")
def trimmed_lines(real_data: Path) -> list[str]:
    """The real extract trimmed by dropping whole rows: its header and every row of RTH and RGT."""
    with zipfile.ZipFile(real_data / ZIP) as archive:
        text = archive.read(MEMBER).decode()
    lines = text.splitlines()
    return [lines[0], *[line for line in lines[1:] if ",RTH,OXFORD" in line or ",RGT,CAMBRIDGE" in line]]


def _zip(tmp_path: Path, lines: list[str], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    path = tmp_path / "20260430-RTT-April-2026-full-extract.csv.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr(MEMBER, "\n".join(lines) + "\n")
        archive.writestr("__MACOSX/._" + MEMBER, b"\x00\x05\x16\x07")
    return path


def test_trimmed_copy_gives_the_same_trusts(trimmed_lines: list[str], tmp_path: Path, april_2026) -> None:
    trimmed = parse_rtt_zip(_zip(tmp_path, trimmed_lines), date(2026, 4, 1)).measures
    for org in ("RTH", "RGT"):
        for measure in ("rtt_incomplete", "rtt_within_18w_pct", "rtt_52w_plus"):
            assert measure_of(trimmed, org, measure)["value"] == measure_of(april_2026.measures, org, measure)["value"]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_members_not_deflated_read_the_same(trimmed_lines: list[str], tmp_path: Path, compression: int) -> None:
    # publishers deflate; any other method is unpacked by the standard library instead of handed to Polars as gzip
    trimmed = parse_rtt_zip(_zip(tmp_path, trimmed_lines, compression), date(2026, 4, 1)).measures
    assert measure_of(trimmed, "RTH", "rtt_incomplete")["value"] == 90_210
    assert measure_of(trimmed, "RTH", "rtt_incomplete")["source_row"] == _first_part2(trimmed_lines) + 1
    assert measure_of(trimmed, "RGT", "rtt_52w_plus")["value"] == 940


def test_blank_lines_keep_line_numbers(trimmed_lines: list[str], tmp_path: Path) -> None:
    # two blank lines (one CRLF) before the first incomplete-pathways row: it, and every row after it, moves down two
    i = _first_part2(trimmed_lines)
    lines = [*trimmed_lines[:i], "", "\r", *trimmed_lines[i:]]
    measures = parse_rtt_zip(_zip(tmp_path, lines), date(2026, 4, 1)).measures
    assert ",RTH,OXFORD" in trimmed_lines[i]  # RTH's rows come first in the extract
    assert measure_of(measures, "RTH", "rtt_incomplete")["source_row"] == i + 3  # line numbers are 1-based


def _first_part2(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if ",Part_2,Incomplete Pathways,C_999," in line)


def _edit_bucket(lines: list[str], column: int, value: str) -> list[str]:
    i = _first_part2(lines)
    cells = lines[i].split(",")
    cells[column - 1] = value
    return [*lines[:i], ",".join(cells), *lines[i + 1 :]]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ls: [ls[0].replace("Total All", "Total_All"), *ls[1:]], "row 1, column 'Total All': header has no"),
        (lambda ls: _edit_bucket(ls, 14, "x"), "column 'Gt 00 To 01 Weeks SUM 1': 'x' is not a number"),
        (lambda ls: _edit_bucket(ls, 30, "-3"), "column 'Gt 16 To 17 Weeks SUM 1': '-3' is negative"),
        (lambda ls: _edit_bucket(ls, 121, "0"), "column 'Gt 17 To 18 Weeks SUM 1': pathways within 18 weeks"),
    ],
    ids=["changed-header", "non-numeric-count", "negative-count", "numerator-over-denominator"],
)
def test_broken_copies_name_file_row_and_column(trimmed_lines, tmp_path: Path, edit, expected: str) -> None:
    lines = edit(trimmed_lines)
    with pytest.raises(InputDataError) as error:
        parse_rtt_zip(_zip(tmp_path, lines), date(2026, 4, 1))
    message = str(error.value)
    assert message.startswith("file '20260430-RTT-April-2026-full-extract.csv.zip', ") and expected in message
    if "header" not in expected:  # the row named is the edited line of the CSV (line 1 is the header)
        assert f"row {_first_part2(lines) + 1}, " in message
