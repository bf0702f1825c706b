"""Sickness absence parser on the real monthly CSVs, a synthetic older-layout copy and broken copies."""

from datetime import date
from pathlib import Path

import pytest

from assets.staged.sickness.parse import parse_sickness_csv
from pipeline.errors import InputDataError
from tests.corpus.breakers import lines_edited
from tests.helpers.performance import measure_of

SICKNESS = "sickness-absence"


def test_march_2025_two_trusts_by_hand(real_data: Path) -> None:
    m = parse_sickness_csv(real_data / SICKNESS / "nhs_sickness_absence_2025-03.csv", date(2025, 3, 1)).measures
    # nhs_sickness_absence_2025-03.csv row 113, RTH: FTE_DAYS_LOST 17056.26868, FTE_DAYS_AVAILABLE 429314.47079,
    # published rate 3.97; recomputed 100 × 17056.26868 / 429314.47079 = 3.97290…
    rth = measure_of(m, "RTH", "sickness_absence_pct")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (17056.26868, 429314.47079, 113)
    assert rth["value"] == pytest.approx(3.972908, abs=1e-6)
    assert round(rth["value"], 2) == 3.97
    # row 203, RGT: 100 × 15890.22852 / 395163.45651 = 4.021179 (published 4.02)
    assert measure_of(m, "RGT", "sickness_absence_pct")["value"] == pytest.approx(4.021179, abs=1e-6)
    # ICBs and CSUs are kept (matching to ODS trusts happens later): row 2 is CSU 0AR
    assert measure_of(m, "0AR", "sickness_absence_pct")["numerator"] == 1504.83928
    assert m.height == 280


def test_older_sa_rate_layout(real_data: Path, tmp_path: Path) -> None:
    """SYNTHETIC fixture: real March 2025 rows re-headed in the older layout (`SA Rate (%)`, `YYYY-MON` dates)."""

    def older(lines: list[str]) -> list[str]:
        header = lines[0].replace("DATE,", "Month,").replace("SICKNESS_ABSENCE_RATE_PERCENT", "SA Rate (%)")
        header = header.replace("ORG_CODE", "Org Code").replace("ORG_NAME", "Org Name")
        return [header, *[line.replace("31/03/2025,", "2025-MAR,", 1) for line in lines[1:]]]

    path = lines_edited(real_data / SICKNESS / "nhs_sickness_absence_2025-03.csv", tmp_path / "old.csv", older)
    m = parse_sickness_csv(path, date(2025, 3, 1)).measures
    assert measure_of(m, "RTH", "sickness_absence_pct")["value"] == pytest.approx(3.972908, abs=1e-6)


def _cell(lines: list[str], row: int, old: str, new: str) -> list[str]:
    return [*lines[: row - 1], lines[row - 1].replace(old, new), *lines[row:]]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ls: [ls[0].replace("FTE_DAYS_LOST", "FTE_LOST"), *ls[1:]], "row 1, column 'FTE_DAYS_LOST': header"),
        (lambda ls: _cell(ls, 113, "17056.26868", "n/a"), "row 113, column 'FTE_DAYS_LOST': 'n/a' is not a number"),
        (lambda ls: _cell(ls, 203, "395163.45651", "-395163.45651"), "row 203, column 'FTE_DAYS_AVAILABLE': "),
        (
            lambda ls: _cell(ls, 113, "17056.26868", "517056.26868"),
            "row 113, column 'FTE_DAYS_LOST': FTE days lost (517056) exceeds its denominator (429314)",
        ),
        (lambda ls: _cell(ls, 2, "31/03/2025", "28/02/2025"), "row 2, column 'DATE': date '28/02/2025' is not in"),
    ],
    ids=["changed-header", "non-numeric", "negative", "lost-over-available", "wrong-month"],
)
def test_broken_copies_name_file_row_and_column(real_data: Path, tmp_path: Path, edit, expected: str) -> None:
    path = lines_edited(real_data / SICKNESS / "nhs_sickness_absence_2025-03.csv", tmp_path / "sick.csv", edit)
    with pytest.raises(InputDataError) as error:
        parse_sickness_csv(path, date(2025, 3, 1))
    assert str(error.value).startswith("file 'sick.csv', ") and expected in str(error.value)
