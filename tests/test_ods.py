"""ODS etr parser on the real 2025 and 2026 exports, and on broken copies of them."""

from pathlib import Path

import pytest

from assets.staged.ods.etr import parse_etr
from pipeline.errors import InputDataError
from pipeline.reference import read_reference


@pytest.fixture(scope="module")
def regions():
    return read_reference("nhs_regions")


def test_real_2026_export(real_data: Path, regions) -> None:
    frame = parse_etr(real_data / "ods" / "2026" / "etr.csv", regions)
    assert frame.height == 274
    by_code = {row["org_code"]: row for row in frame.iter_rows(named=True)}
    # row read by hand: "RVY","SOUTHPORT AND ORMSKIRK HOSPITAL NHS TRUST","Y62","QYG",...,"19990401","20230630"
    rvy = by_code["RVY"]
    assert rvy["org_name"] == "SOUTHPORT AND ORMSKIRK HOSPITAL NHS TRUST"
    assert (rvy["region_code"], rvy["region_name"], rvy["icb_code"]) == ("Y62", "North West", "QYG")
    assert str(rvy["open_date"]) == "1999-04-01" and str(rvy["close_date"]) == "2023-06-30"
    # "K0N6A","THE ONLINE NHS TRUST","Y56","QKK",...,"20260601","" — a 5-character code, still open
    assert by_code["K0N6A"]["region_name"] == "London" and by_code["K0N6A"]["close_date"] is None
    assert frame.filter(frame["close_date"].is_null()).height == 203


def test_real_2025_export(real_data: Path, regions) -> None:
    frame = parse_etr(real_data / "ods" / "etr.csv", regions)
    assert frame.height == 210
    r0a = frame.filter(frame["org_code"] == "R0A").row(0, named=True)
    assert (r0a["org_name"], r0a["region_code"], str(r0a["open_date"])) == (
        "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST",
        "Y62",
        "2017-10-01",
    )


def _broken_copy(real_data: Path, tmp_path: Path, edit) -> Path:
    lines = (real_data / "ods" / "2026" / "etr.csv").read_text().splitlines()
    target = tmp_path / "etr.csv"
    target.write_text("\r\n".join(edit(lines)) + "\r\n")
    return target


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda lines: [], "file 'etr.csv': the file is empty"),
        (lambda lines: ['"Organisation Code","Name"' + ',""' * 25, *lines], "row 1: has a header row"),
        (lambda lines: [*lines[:4], lines[4] + ',"extra"', *lines[5:]], "row 5: has 28 columns, expected 27"),
        (
            lambda lines: [*lines[:2], lines[2].replace('"20171001"', '"2017-10-01"'), *lines[3:]],
            "row 3, column 'Open Date (column 11)': '2017-10-01' is not a YYYYMMDD date",
        ),
        (lambda lines: [*lines, lines[2]], "row 275, column 'Organisation Code (column 1)': organisation code R0A"),
    ],
    ids=["empty", "header-row", "extra-column", "bad-date", "duplicated-code"],
)
def test_broken_exports_name_file_row_and_column(real_data, tmp_path, regions, edit, expected) -> None:
    with pytest.raises(InputDataError) as error:
        parse_etr(_broken_copy(real_data, tmp_path, edit), regions)
    assert expected in str(error.value)
