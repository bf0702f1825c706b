"""A&E monthly CSV parser on the real MSitAE files, and on broken copies of them."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.staged.ae.parse import parse_ae_csv
from assets.staged.performance.measures import england_from_providers
from pipeline.errors import InputDataError
from tests.corpus.breakers import lines_edited
from tests.helpers.performance import measure_of

AE = "ae-attendances"


def test_july_2024_revised_two_trusts_by_hand(real_data: Path) -> None:
    parsed = parse_ae_csv(real_data / AE / "Monthly-AE-July-2024-revised.csv", date(2024, 7, 1))
    m = parsed.measures
    # Monthly-AE-July-2024-revised.csv row 180, RTH: attendances (columns 5-10) 11911+1955+2104+1488+0+112 = 17570,
    # over 4 hours (columns 11-16) 3391+0+1+348+0+0 = 3740, so 13830 within 4 hours
    rth = measure_of(m, "RTH", "ae_4hr_pct_all")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (13830, 17570, 180)
    assert rth["value"] == pytest.approx(100 * 13830 / 17570)
    # type 1 = unbooked + booked type 1: 11911+1488 = 13399 attendances, 3391+348 = 3739 over 4 hours
    assert measure_of(m, "RTH", "ae_4hr_pct_type1")["numerator"] == 13399 - 3739
    assert measure_of(m, "RTH", "ae_12hr_dta_waits")["value"] == 0  # column 18
    # row 138, RGT: 10480+0+6358+279+0+296 = 17413 attendances, 5065+0+63+106+0+9 = 5243 over 4 hours
    rgt = measure_of(m, "RGT", "ae_4hr_pct_all")
    assert (rgt["numerator"], rgt["denominator"]) == (17413 - 5243, 17413)
    assert measure_of(m, "RGT", "ae_4hr_pct_type1")["denominator"] == 10480 + 279
    assert measure_of(m, "RGT", "ae_12hr_dta_waits")["numerator"] == 534
    assert set(m["source_file"]) == {"Monthly-AE-July-2024-revised.csv"}


def test_june_2025_england_equals_total_row_and_official_figure(real_data: Path) -> None:
    parsed = parse_ae_csv(real_data / AE / "Monthly-AE-June-2025-1-1.csv", date(2025, 6, 1), "Monthly-AE-June-2025.csv")
    england = england_from_providers(parsed.measures)
    totals = parsed.file_totals.sort("measure")
    assert england.select("measure", "numerator", "denominator").equals(
        totals.select("measure", "numerator", "denominator")
    )
    # TOTAL footer (last row): attendances 1395330+50843+820895+33233+775+49402 = 2,350,478 and over 4 hours
    # 539355+2030+25349+7516+13+546 = 574,809: 75.545% (PROVENANCE.md: the official workbook shows 0.75545016…)
    allt = totals.filter(pl.col("measure") == "ae_4hr_pct_all").row(0, named=True)
    assert (allt["denominator"], allt["denominator"] - allt["numerator"]) == (2_350_478, 574_809)
    assert allt["value"] == pytest.approx(75.54501680083796, abs=1e-9)
    # R0A, row 77: 24752+3028+11652+3295+544+905 = 44176 attendances; 12+ hour DTA waits (column 18) 108
    assert measure_of(parsed.measures, "R0A", "ae_4hr_pct_all")["denominator"] == 44176
    assert measure_of(parsed.measures, "R0A", "ae_12hr_dta_waits")["value"] == 108
    # RTH, row 179: 12268+1813+3750+1643+0+217 = 19691 attendances, 3498+0+111+294+0+37 = 3940 over 4 hours;
    # type 1: 12268+1643 = 13911 attendances, 3498+294 = 3792 over 4 hours
    rth = measure_of(parsed.measures, "RTH", "ae_4hr_pct_all")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (19691 - 3940, 19691, 179)
    assert measure_of(parsed.measures, "RTH", "ae_4hr_pct_type1")["value"] == pytest.approx(
        100 * (13911 - 3792) / 13911
    )
    assert "TOTAL" not in set(parsed.measures["reported_org_code"])


@pytest.mark.parametrize(
    ("name", "month", "providers"),
    [
        ("ae_activity_2024-04.csv", date(2024, 4, 1), 197),  # footer spelled "Total " with a trailing space
        ("Monthly-AE-July-2024-revised.csv", date(2024, 7, 1), 198),  # footer "Total"
        ("Monthly-AE-September-2024.csv", date(2024, 9, 1), 197),  # six empty trailing columns, one headed "a"
    ],
)
def test_footer_spellings_and_trailing_columns(real_data: Path, name: str, month: date, providers: int) -> None:
    parsed = parse_ae_csv(real_data / AE / name, month)
    assert parsed.measures["reported_org_code"].n_unique() == providers
    assert parsed.file_totals.height == 3
    assert (
        england_from_providers(parsed.measures)["numerator"].to_list()
        == parsed.file_totals.sort("measure")["numerator"].to_list()
    )


def test_names_are_trimmed_and_non_trust_providers_kept(real_data: Path) -> None:
    m = parse_ae_csv(real_data / AE / "Monthly-AE-June-2025-1-1.csv", date(2025, 6, 1)).measures
    # row 4: Y02615 SOUTH BIRMINGHAM GP WALK IN CENTRE, 6125 other-department attendances, none over 4 hours
    walk_in = measure_of(m, "Y02615", "ae_4hr_pct_all")
    assert (walk_in["reported_org_name"], walk_in["value"]) == ("SOUTH BIRMINGHAM GP WALK IN CENTRE", 100.0)
    # row 2: RJ8 reports no attendances (only other emergency admissions): the percentage is undefined, not 0
    assert measure_of(m, "RJ8", "ae_4hr_pct_all")["value"] is None


def test_older_number_of_header_era(real_data: Path, tmp_path: Path) -> None:
    """SYNTHETIC fixture: the real June 2025 file re-headed in the 2015-2020 style ("Number of A&E attendances
    Type 1" …, no booked-appointment columns), to test header-era detection only."""
    old = {
        "A&E attendances Type 1": "Number of A&E attendances Type 1",
        "A&E attendances Type 2": "Number of A&E attendances Type 2",
        "A&E attendances Other A&E Department": "Number of A&E attendances Other A&E Department",
        "Attendances over 4hrs Type 1": "Number of attendances over 4hrs Type 1",
        "Attendances over 4hrs Type 2": "Number of attendances over 4hrs Type 2",
        "Attendances over 4hrs Other Department": "Number of attendances over 4hrs Other A&E Department",
    }
    booked = [7, 8, 9, 13, 14, 15]  # 0-based positions of the six booked-appointment columns

    def re_head(lines: list[str]) -> list[str]:
        import csv
        import io

        rows = list(csv.reader(io.StringIO("\n".join(lines))))
        rows[0] = [old.get(h, h) for h in rows[0]]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([[c for i, c in enumerate(r) if i not in booked] for r in rows])
        return out.getvalue().splitlines()

    path = lines_edited(real_data / AE / "Monthly-AE-June-2025-1-1.csv", tmp_path / "old.csv", re_head)
    m = parse_ae_csv(path, date(2025, 6, 1)).measures
    # RTH row 179 without its booked columns: 12268+1813+3750 = 17831 attendances, 3498+0+111 = 3609 over 4 hours
    rth = measure_of(m, "RTH", "ae_4hr_pct_all")
    assert (rth["numerator"], rth["denominator"]) == (17831 - 3609, 17831)


def _break(real_data: Path, tmp_path: Path, edit) -> Path:
    return lines_edited(real_data / AE / "Monthly-AE-June-2025-1-1.csv", tmp_path / "Monthly-AE-June-2025.csv", edit)


def _cell(lines: list[str], row: int, column: int, value: str) -> list[str]:
    cells = lines[row - 1].split(",")
    cells[column - 1] = value
    return [*lines[: row - 1], ",".join(cells), *lines[row:]]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda ls: [ls[0].replace("Attendances over 4hrs Type 1", "Attendances over 4 hours Type 1"), *ls[1:]],
            "row 1, column 'Attendances over 4hrs Type 1': header has no 'Attendances over 4hrs Type 1' column",
        ),
        (
            lambda ls: _cell(ls, 179, 5, "12x"),
            "row 179, column 'A&E attendances Type 1': '12x' is not a number",
        ),
        (
            lambda ls: _cell(ls, 77, 18, "-108"),
            "row 77, column 'Patients who have waited 12+ hrs from DTA to admission': '-108' is negative",
        ),
        (
            lambda ls: _cell(ls, 179, 11, "99999"),
            "row 179, column 'Attendances over 4hrs Type 1': type 1 attendances over 4 hours (100293) exceeds its "
            "denominator (13911)",
        ),
        (
            lambda ls: [ls[0], *[line.replace("MSitAE-JUNE-2025", "MSitAE-MAY-2025") for line in ls[1:]]],
            "row 2, column 'Period': period 'MSitAE-MAY-2025' is not the data month June 2025",
        ),
    ],
    ids=["changed-header", "non-numeric-count", "negative-count", "numerator-over-denominator", "wrong-month"],
)
def test_broken_copies_name_file_row_and_column(real_data: Path, tmp_path: Path, edit, expected: str) -> None:
    with pytest.raises(InputDataError) as error:
        parse_ae_csv(_break(real_data, tmp_path, edit), date(2025, 6, 1))
    assert str(error.value).startswith("file 'Monthly-AE-June-2025.csv', ")
    assert expected in str(error.value)
