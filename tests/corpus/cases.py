"""The bad-input corpus: broken copies of the real files, and what each must get.

Each case makes a broken file from a real one in data/snapshot/ (tests/corpus/breakers.py) and checks that the
parser either reads it correctly (the real values asserted, cited from the real rows) or refuses it with an
InputDataError naming the file and, where the problem has one, the sheet, row and column.

The table of cases in docs/reliability.md is generated from this list: `uv run python -m tests.corpus.cases` prints it.
"""

import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from assets.staged.ae.parse import parse_ae_csv
from assets.staged.cancer.parse import parse_cancer_workbook
from assets.staged.ods.etr import parse_etr
from assets.staged.performance.measures import ParsedMonth
from assets.staged.performance.organisations import match_organisations
from assets.staged.rtt.parse import parse_rtt_zip
from assets.staged.sickness.parse import parse_sickness_csv
from assets.staged.staff_survey.build import build_survey_year
from assets.staged.staff_survey.extract import ExtractTables, parse_trust_extract
from assets.staged.staff_survey.workbook import WorkbookTables, parse_organisational_workbook
from pipeline.errors import InputDataError
from pipeline.reference import read_reference
from pipeline.sources import SourceFile
from tests.corpus import breakers as b

AE, AE_NAME, AE_MONTH = "ae-attendances/Monthly-AE-June-2024 copy.csv", "Monthly-AE-June-2024.csv", date(2024, 6, 1)
SICK, SICK_NAME = "sickness-absence/nhs_sickness_absence_2024-04.csv", "NHS Sickness Absence rates CSV, April 2024.csv"
SICK_MONTH = date(2024, 4, 1)
ODS, ODS_NAME = "ods/2026/etr.csv", "etr.csv"
EXTRACT = "nhs-staff-survey/data_trusts_well-being - organisational results.csv"
EXTRACT_NAME = "data_trusts_well-being - organisational results.csv"
WORKBOOK = "nhs-staff-survey-nss24-workbooks/NSS24 detailed spreadsheets organisational results.xlsx"
WORKBOOK_NAME = "NSS24 detailed spreadsheets organisational results.xlsx"
RTT, RTT_NAME = "rtt/20260430-RTT-April-2026-full-extract.csv.zip", "20260430-RTT-April-2026-full-extract.csv.zip"
RTT_MEMBER, RTT_MONTH = "20260430-RTT-April-2026-full-extract.csv", date(2026, 4, 1)
CANCER = "cancer-waiting-times/APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL (2).xlsx"
CANCER_NAME, CANCER_MONTH = "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx", date(2025, 4, 1)
FDS_SHEET = "28-DAY FDS (ALL ROUTES)"
Q12_SHEET = "HEALTH WELLBEING SAFETY Q12"


@dataclass(frozen=True)
class Case:
    id: str
    dataset: str
    breakage: str  # what was done to the real file
    outcome: str  # what the pipeline does with it
    make: Callable[[Path], Path]  # writes the broken copy into a folder and returns it
    check: Callable[[Path], None]  # parses it and asserts the outcome


# --- parsers, and the real files parsed once for comparison ---------------------------------------------------


def ae(path: Path) -> ParsedMonth:
    return parse_ae_csv(path, AE_MONTH)


def sickness(path: Path) -> ParsedMonth:
    return parse_sickness_csv(path, SICK_MONTH)


def ods(path: Path) -> pl.DataFrame:
    return parse_etr(path, read_reference("nhs_regions"))


def extract(path: Path) -> ExtractTables:
    return parse_trust_extract(path, 2024)


def workbook(path: Path) -> WorkbookTables:
    return parse_organisational_workbook(path, 2024)


def rtt(path: Path) -> ParsedMonth:
    return parse_rtt_zip(path, RTT_MONTH)


def cancer(path: Path) -> ParsedMonth:
    return parse_cancer_workbook(path, "provider_workbook", CANCER_MONTH)


@cache
def real_ae() -> ParsedMonth:
    return parse_ae_csv(b.real(AE), AE_MONTH, AE_NAME)


@cache
def real_sickness() -> ParsedMonth:
    return parse_sickness_csv(b.real(SICK), SICK_MONTH, SICK_NAME)


@cache
def real_extract() -> ExtractTables:
    return extract(b.real(EXTRACT))


@cache
def real_workbook() -> WorkbookTables:
    return workbook(b.real(WORKBOOK))


@cache
def rtt_trimmed_lines() -> tuple[str, ...]:
    """The real extract cut down to its header and every row of RTH and RGT (whole rows, nothing changed)."""
    with zipfile.ZipFile(b.real(RTT)) as archive:
        text = archive.read(RTT_MEMBER).decode()
    lines = text.splitlines()
    return (lines[0], *[line for line in lines[1:] if ",RTH,OXFORD" in line or ",RGT,CAMBRIDGE" in line])


def rtt_zip(target: Path, lines: list[str] | tuple[str, ...], member: str = RTT_MEMBER) -> Path:
    return b.zip_of(target, {member: ("\n".join(lines) + "\n").encode()})


@cache
def real_rtt_trimmed() -> ParsedMonth:
    with tempfile.TemporaryDirectory() as folder:
        return rtt(rtt_zip(Path(folder) / RTT_NAME, rtt_trimmed_lines()))


# --- expectations -----------------------------------------------------------------------------------------------


def refused(parse: Callable[[Path], object], location: str, problem: str) -> Callable[[Path], None]:
    """The parser raises InputDataError whose message starts with `location` and contains `problem`."""

    def check(path: Path) -> None:
        with pytest.raises(InputDataError) as error:
            parse(path)
        message = str(error.value)
        assert message.startswith(location), message
        assert problem in message, message

    return check


def measure(parsed: ParsedMonth | pl.DataFrame, org: str, name: str) -> dict:
    frame = parsed.measures if isinstance(parsed, ParsedMonth) else parsed
    rows = frame.filter((pl.col("reported_org_code") == org) & (pl.col("measure") == name))
    assert rows.height == 1, f"{org} {name}: {rows.height} rows"
    return rows.row(0, named=True)


def same_as(expected: ParsedMonth, parsed: ParsedMonth) -> None:
    assert parsed.measures.equals(expected.measures)
    assert parsed.file_totals.equals(expected.file_totals)


def ae_reads_as_published(path: Path) -> None:
    parsed = ae(path)
    same_as(real_ae(), parsed)
    # Monthly-AE-June-2024 copy.csv row 191 (RTH): attendances 12092 + 1819 + 1922 + 1529 + 0 + 111 = 17473,
    # over 4 hours 4110 + 0 + 2 + 435 + 0 + 1 = 4548, so 12925 within 4 hours
    rth = measure(parsed, "RTH", "ae_4hr_pct_all")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (12925, 17473, 191)


def sickness_reads_as_published(path: Path) -> None:
    parsed = sickness(path)
    same_as(real_sickness(), parsed)
    # nhs_sickness_absence_2024-04.csv row 117 (RTH): FTE_DAYS_LOST 15590.89496, FTE_DAYS_AVAILABLE 408741.44638
    rth = measure(parsed, "RTH", "sickness_absence_pct")
    assert (rth["numerator"], rth["denominator"]) == (15590.89496, 408741.44638)
    assert rth["value"] == pytest.approx(100 * 15590.89496 / 408741.44638)


def ods_reads_as_published(path: Path) -> None:
    parsed, expected = ods(path), ods(b.real(ODS))
    assert parsed.equals(expected)
    # ods/2026/etr.csv row 180: "RTH","OXFORD UNIVERSITY HOSPITALS NHS FOUNDATION TRUST","Y59" (South East)
    rth = parsed.filter(pl.col("org_code") == "RTH").row(0, named=True)
    assert (rth["org_name"], rth["region_code"], rth["source_row"]) == (
        "OXFORD UNIVERSITY HOSPITALS NHS FOUNDATION TRUST",
        "Y59",
        180,
    )


def extract_reads_as_published(path: Path) -> None:
    parsed, expected = extract(path), real_extract()
    assert parsed.option_sums.equals(expected.option_sums) and parsed.bases.equals(expected.bases)
    assert parsed.organisations.equals(expected.organisations)
    _rbn_extract_values(parsed)


def _rbn_extract_values(parsed: ExtractTables) -> None:
    # the extract's line 892 (RBN, 2024): Burned_out_rate (column 12) 29.8262605695837, Burned_out_base 3912
    rates = parsed.option_sums.filter((pl.col("org_code") == "RBN") & (pl.col("extract_column") == "Burned_out_rate"))
    assert rates["pct"].to_list() == [29.8262605695837]
    bases = parsed.bases.filter((pl.col("org_code") == "RBN") & (pl.col("source_question_id") == "q12b"))
    assert bases["base"].to_list() == [3912]


def _option(tables: WorkbookTables, org: str, question: str, option: str) -> dict:
    rows = tables.responses.filter(
        (pl.col("org_code") == org) & (pl.col("source_question_id") == question) & (pl.col("option_label") == option)
    )
    assert rows.height == 1
    return rows.row(0, named=True)


def workbook_reads_as_published(path: Path, *, sheet_renamed: tuple[str, str] | None = None) -> None:
    parsed, expected = workbook(path), real_workbook()
    responses = parsed.responses
    if sheet_renamed:
        responses = responses.with_columns(pl.col("source_sheet").replace(sheet_renamed[1], sheet_renamed[0]))
    assert responses.equals(expected.responses)
    assert parsed.scores.equals(expected.scores)
    # 'HEALTH WELLBEING SAFETY Q12' row 84 (RBN): Q12b % Often P84 24.224946669, % Always Q84 5.601313901, base 3912
    often = _option(parsed, "RBN", "q12b", "Often")
    assert (often["pct"], often["base"], often["source_row"], often["source_column"]) == (24.224946669, 3912, 84, "P")


# --- the cases --------------------------------------------------------------------------------------------------


def _ae_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]) -> Case:
    return Case(id, "A&E monthly CSV", breakage, outcome, make, check)


def _ae_lines(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    return lambda folder: b.lines_edited(b.real(AE), folder / AE_NAME, edit)


def _without_column(lines: list[str], column: int) -> list[str]:
    return [b.without_field(line, column) for line in lines]


def _ae_matched(path: Path, org: str) -> dict:
    parsed = ae(path)
    trusts = ods(b.real(ODS))["org_code"]
    matched = match_organisations(parsed.measures, trusts, read_reference("org_successors"), AE_MONTH)
    return measure(matched, org, "ae_4hr_pct_all")


def _check_not_in_ods(path: Path) -> None:
    row = _ae_matched(path, "TAD")
    # RTH's real row 191 reported under TAD: kept, unmatched, with its real counts (12925 of 17473 within 4 hours)
    assert (row["org_code"], row["match_status"], row["numerator"], row["denominator"]) == (
        None,
        "unmatched",
        12925,
        17473,
    )


def _check_predecessor(path: Path) -> None:
    row = _ae_matched(path, "RVY")
    # RBN's real row 197 reported under RVY (Southport and Ormskirk, merged into RBN on 2023-07-01,
    # data/reference/org_successors.csv): attendances 16606 + 7186 + 387 = 24179, over 4 hours 6364 + 206 + 47 = 6617
    assert (row["org_code"], row["match_status"], row["numerator"], row["denominator"]) == (
        "RBN",
        "ods_successor",
        24179 - 6617,
        24179,
    )


AE_CASES = [
    _ae_case(
        "ae-truncated-mid-row",
        "download cut off in the middle of row 150",
        "error: the last line is short and unterminated (file, row)",
        lambda f: b.cut_mid_line(b.real(AE), f / AE_NAME, 150),
        refused(ae, f"file '{AE_NAME}', row 150: the last line has", "the file was cut short"),
    ),
    _ae_case(
        "ae-truncated-at-line-end",
        "download cut off exactly after row 150 (no TOTAL footer)",
        "error: no England TOTAL row, so the file was cut short (file, row, column)",
        _ae_lines(lambda ls: ls[:150]),
        refused(ae, f"file '{AE_NAME}', row 151, column 'Org Code': ", "no England TOTAL row"),
    ),
    _ae_case(
        "ae-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / AE_NAME, b""),
        refused(ae, f"file '{AE_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _ae_case(
        "ae-html-as-csv",
        "an HTML error page saved under the CSV's name",
        "error: an HTML page, not a CSV file (file)",
        lambda f: b.bytes_written(f / AE_NAME, b.ERROR_PAGE),
        refused(ae, f"file '{AE_NAME}': ", "is an HTML/XML page, not a CSV file"),
    ),
    _ae_case(
        "ae-bom-crlf",
        "UTF-8 byte-order mark and Windows line endings",
        "parsed: identical to the real file",
        lambda f: b.bom_and_crlf(b.real(AE), f / AE_NAME),
        ae_reads_as_published,
    ),
    _ae_case(
        "ae-renamed-column",
        "header 'Patients who have waited 12+ hrs from DTA to admission' reworded",
        "error: header has no such column (file, row 1, column)",
        _ae_lines(lambda ls: [ls[0].replace("who have waited 12+ hrs", "waiting 12+ hours"), *ls[1:]]),
        refused(
            ae,
            f"file '{AE_NAME}', row 1, column 'Patients who have waited 12+ hrs from DTA to admission': ",
            "header has no",
        ),
    ),
    _ae_case(
        "ae-missing-column",
        "column 9 'A&E attendances Booked Appointments Type 2' removed from every row",
        "error: header has no such column (file, row 1, column)",
        _ae_lines(lambda ls: _without_column(ls, 9)),
        refused(
            ae,
            f"file '{AE_NAME}', row 1, column 'A&E attendances Booked Appointments Type 2': ",
            "(A&E current layout)",
        ),
    ),
    _ae_case(
        "ae-duplicated-column",
        "column 6 re-headed 'A&E attendances Type 1', so that name appears twice",
        "error: the header repeats the column (file, row 1, column)",
        _ae_lines(lambda ls: [ls[0].replace("A&E attendances Type 2", "A&E attendances Type 1"), *ls[1:]]),
        refused(ae, f"file '{AE_NAME}', row 1, column 'A&E attendances Type 1': ", "the header repeats this column"),
    ),
    _ae_case(
        "ae-new-column",
        "a new last column 'Attendances over 12hrs from arrival' (SYNTHETIC zeros)",
        "parsed: the new column is ignored, values identical",
        _ae_lines(lambda ls: [ls[0] + ",Attendances over 12hrs from arrival", *[line + ",0" for line in ls[1:]]]),
        ae_reads_as_published,
    ),
    _ae_case(
        "ae-thousands-separators",
        "counts written '\"12,092\"' (RTH row 191 and the TOTAL row)",
        "parsed: separators removed, values identical",
        _ae_lines(
            lambda ls: [
                *ls[:190],
                b.set_field(ls[190], 5, b.thousands("12092")),
                *ls[191:-1],
                b.set_field(ls[-1], 5, b.thousands("1374917")),
            ]
        ),
        ae_reads_as_published,
    ),
    _ae_case(
        "ae-wrong-month",
        "June's file holding July's rows (Period MSitAE-JULY-2024)",
        "error: period is not the data month (file, row, column)",
        _ae_lines(lambda ls: [line.replace("MSitAE-JUNE-2024", "MSitAE-JULY-2024") for line in ls]),
        refused(ae, f"file '{AE_NAME}', row 2, column 'Period': ", "is not the data month June 2024"),
    ),
    _ae_case(
        "ae-duplicated-row",
        "RTH's row 191 repeated",
        "error: provider appears more than once (file, row, column)",
        _ae_lines(lambda ls: [*ls[:191], ls[190], *ls[191:]]),
        refused(ae, f"file '{AE_NAME}', row 192, column 'Org Code': ", "provider RTH appears more than once"),
    ),
    _ae_case(
        "ae-trust-not-in-ods",
        "RTH's row reported under TAD, a real trust code missing from ODS etr",
        "parsed: row kept as unmatched (listed in performance_unmatched), counts unchanged",
        _ae_lines(lambda ls: [*ls[:190], ls[190].replace(",RTH,", ",TAD,"), *ls[191:]]),
        _check_not_in_ods,
    ),
    _ae_case(
        "ae-predecessor-code-after-merger",
        "RBN's row reported under RVY, its predecessor merged in July 2023",
        "parsed: resolved to successor RBN (match_status ods_successor), counts unchanged",
        _ae_lines(lambda ls: [*ls[:196], ls[196].replace(",RBN,", ",RVY,"), *ls[197:]]),
        _check_predecessor,
    ),
]


def _sick_lines(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    return lambda folder: b.lines_edited(b.real(SICK), folder / SICK_NAME, edit)


def _sick_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "Sickness absence CSV", breakage, outcome, make, check)


def _rates_as_fractions(lines: list[str]) -> list[str]:
    return [lines[0], *[b.set_field(line, 11, str(float(b.fields(line)[10]) / 100)) for line in lines[1:]]]


SICKNESS_CASES = [
    _sick_case(
        "sickness-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / SICK_NAME, b""),
        refused(sickness, f"file '{SICK_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _sick_case(
        "sickness-html-as-csv",
        "an HTML error page saved under the CSV's name",
        "error: an HTML page, not a CSV file (file)",
        lambda f: b.bytes_written(f / SICK_NAME, b.ERROR_PAGE),
        refused(sickness, f"file '{SICK_NAME}': ", "is an HTML/XML page, not a CSV file"),
    ),
    _sick_case(
        "sickness-truncated-mid-row",
        "download cut off in the middle of row 200",
        "error: the last line is short and unterminated (file, row)",
        lambda f: b.cut_mid_line(b.real(SICK), f / SICK_NAME, 200),
        refused(sickness, f"file '{SICK_NAME}', row 200: the last line has", "the file was cut short"),
    ),
    _sick_case(
        "sickness-bom-crlf",
        "UTF-8 byte-order mark and Windows line endings",
        "parsed: identical to the real file",
        lambda f: b.bom_and_crlf(b.real(SICK), f / SICK_NAME),
        sickness_reads_as_published,
    ),
    _sick_case(
        "sickness-rate-as-fraction",
        "SICKNESS_ABSENCE_RATE_PERCENT written as fractions of 1 (0.0381 for 3.81%)",
        "parsed: the rate is recomputed from FTE days, so values are identical",
        _sick_lines(_rates_as_fractions),
        sickness_reads_as_published,
    ),
    _sick_case(
        "sickness-missing-column",
        "column FTE_DAYS_AVAILABLE removed",
        "error: header has no such column (file, row 1, column)",
        _sick_lines(lambda ls: _without_column(ls, 10)),
        refused(sickness, f"file '{SICK_NAME}', row 1, column 'FTE_DAYS_AVAILABLE': ", "header has no"),
    ),
    _sick_case(
        "sickness-thousands-separators",
        "RTH's FTE days written '\"15,590.89496\"' and '\"408,741.44638\"' (row 117)",
        "parsed: separators removed, values identical",
        _sick_lines(
            lambda ls: [
                *ls[:116],
                b.set_field(b.set_field(ls[116], 9, b.thousands("15590.89496")), 10, b.thousands("408741.44638")),
                *ls[117:],
            ]
        ),
        sickness_reads_as_published,
    ),
    _sick_case(
        "sickness-wrong-month",
        "April's file dated 31/05/2024",
        "error: date not in the data month (file, row, column)",
        _sick_lines(lambda ls: [line.replace("30/04/2024", "31/05/2024") for line in ls]),
        refused(sickness, f"file '{SICK_NAME}', row 2, column 'DATE': ", "is not in the data month April 2024"),
    ),
    _sick_case(
        "sickness-duplicated-row",
        "RTH's row 117 repeated",
        "error: organisation appears more than once (file, row, column)",
        _sick_lines(lambda ls: [*ls[:117], ls[116], *ls[117:]]),
        refused(
            sickness, f"file '{SICK_NAME}', row 118, column 'ORG_CODE': ", "organisation RTH appears more than once"
        ),
    ),
]


def _ods_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "ODS etr trusts CSV", breakage, outcome, make, check)


ODS_CASES = [
    _ods_case(
        "ods-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / ODS_NAME, b""),
        refused(ods, f"file '{ODS_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _ods_case(
        "ods-html-as-csv",
        "an HTML error page saved as etr.csv",
        "error: an HTML page, not a CSV file (file)",
        lambda f: b.bytes_written(f / ODS_NAME, b.ERROR_PAGE),
        refused(ods, f"file '{ODS_NAME}': ", "is an HTML/XML page, not a CSV file"),
    ),
    _ods_case(
        "ods-truncated-mid-row",
        "download cut off in the middle of row 100",
        "error: the last line is short and unterminated (file, row)",
        lambda f: b.cut_mid_line(b.real(ODS), f / ODS_NAME, 100),
        refused(ods, f"file '{ODS_NAME}', row 100: the last line has", "the file was cut short"),
    ),
    _ods_case(
        "ods-bom-lf",
        "UTF-8 byte-order mark and Unix line endings (the export is CRLF)",
        "parsed: identical to the real file",
        lambda f: b.bytes_written(f / ODS_NAME, b.BOM + b.real(ODS).read_bytes().replace(b"\r\n", b"\n")),
        ods_reads_as_published,
    ),
    _ods_case(
        "ods-duplicated-row",
        "RTH's row 180 repeated at the end",
        "error: organisation code appears more than once (file, row, column)",
        lambda f: b.lines_edited(b.real(ODS), f / ODS_NAME, lambda ls: [*ls, ls[179]]),
        refused(
            ods,
            f"file '{ODS_NAME}', row 275, column 'Organisation Code (column 1)': ",
            "organisation code RTH appears more than once",
        ),
    ),
]


def _extract_lines(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    return lambda folder: b.lines_edited(b.real(EXTRACT), folder / EXTRACT_NAME, edit)


def _extract_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "Staff survey trust extract CSV", breakage, outcome, make, check)


def _extract_column(name: str) -> int:
    return b.fields(b.real(EXTRACT).read_text().partition("\n")[0]).index(name) + 1


def _rbn_2024_line(lines: list[str]) -> int:
    """0-based index of RBN's 2024 row (the file's line 892)."""
    return next(i for i, line in enumerate(lines) if line.startswith("RBN,2024,"))


def _edit_rbn(lines: list[str], edit: Callable[[str], str]) -> list[str]:
    i = _rbn_2024_line(lines)
    return [*lines[:i], edit(lines[i]), *lines[i + 1 :]]


def _rates_of_rbn_as_fractions(line: str) -> str:
    rates = read_reference("staff_survey_extract_columns").filter(pl.col("role") == "option_sum")["extract_column"]
    cells = b.fields(line)
    for name in rates:
        column = _extract_column(name)
        if cells[column - 1] not in ("NA", ""):
            cells[column - 1] = str(float(cells[column - 1]) / 100)
    return b.joined(cells)


def _check_suppressed_extract(path: Path) -> None:
    parsed = extract(path)
    rbn = parsed.option_sums.filter(pl.col("org_code") == "RBN")
    values = dict(zip(rbn["extract_column"], rbn["pct"], strict=True))
    assert values["Stress_rate"] is None and values["Burned_out_rate"] is None
    # line 892 (RBN, 2024): Burned_out_ever_rate, column 11, 90.8968581221484 is untouched
    assert values["Burned_out_ever_rate"] == 90.8968581221484
    expected = real_extract().option_sums
    unchanged = ~((pl.col("org_code") == "RBN") & pl.col("extract_column").is_in(["Stress_rate", "Burned_out_rate"]))
    assert parsed.option_sums.filter(unchanged).equals(expected.filter(unchanged))


EXTRACT_CASES = [
    _extract_case(
        "extract-bom-crlf",
        "UTF-8 byte-order mark and Windows line endings",
        "parsed: identical to the real file",
        lambda f: b.bom_and_crlf(b.real(EXTRACT), f / EXTRACT_NAME),
        extract_reads_as_published,
    ),
    _extract_case(
        "extract-truncated-mid-row",
        "download cut off in the middle of row 500",
        "error: the last line is short and unterminated (file, row)",
        lambda f: b.cut_mid_line(b.real(EXTRACT), f / EXTRACT_NAME, 500),
        refused(extract, f"file '{EXTRACT_NAME}', row 500: the last line has", "the file was cut short"),
    ),
    _extract_case(
        "extract-renamed-column",
        "column Burned_out_rate renamed Burnout_rate",
        "error: column not in the documented layout (file, row 1, column)",
        _extract_lines(lambda ls: [ls[0].replace("Burned_out_rate", "Burnout_rate"), *ls[1:]]),
        refused(extract, f"file '{EXTRACT_NAME}', row 1, column 'Burnout_rate': ", "column not in the extract layout"),
    ),
    _extract_case(
        "extract-missing-column",
        "column Stress_rate removed from every row",
        "error: documented column missing (file, row 1, column)",
        _extract_lines(lambda ls: [b.without_field(line, _extract_column("Stress_rate")) for line in ls]),
        refused(extract, f"file '{EXTRACT_NAME}', row 1, column 'Stress_rate': ", "column missing from the extract"),
    ),
    _extract_case(
        "extract-duplicated-column",
        "Stress_base re-headed Stress_rate, so that name appears twice",
        "error: the header repeats the column (file, row 1, column)",
        _extract_lines(lambda ls: [ls[0].replace("Stress_base", "Stress_rate"), *ls[1:]]),
        refused(extract, f"file '{EXTRACT_NAME}', row 1, column 'Stress_rate': ", "the header repeats this column"),
    ),
    _extract_case(
        "extract-new-column",
        "a new column Sickness_rate (SYNTHETIC values)",
        "error: column not in the documented layout (file, row 1, column); each column has a documented role",
        _extract_lines(lambda ls: [ls[0] + ",Sickness_rate", *[line + ",4.5" for line in ls[1:]]]),
        refused(extract, f"file '{EXTRACT_NAME}', row 1, column 'Sickness_rate': ", "column not in the extract layout"),
    ),
    _extract_case(
        "extract-duplicated-row",
        "RBN's 2024 row (line 892) repeated",
        "error: organisation appears twice for the year (file, row, column)",
        _extract_lines(lambda ls: [*ls[:892], ls[891], *ls[892:]]),
        refused(
            extract, f"file '{EXTRACT_NAME}', row 892, column 'ODS code': ", "organisation RBN appears twice for 2024"
        ),
    ),
    _extract_case(
        "extract-thousands-separators",
        "RBN's Burned_out_base written '\"3,912\"'",
        "parsed: separators removed, values identical",
        _extract_lines(
            lambda ls: _edit_rbn(ls, lambda line: b.set_field(line, _extract_column("Burned_out_base"), "3,912"))
        ),
        extract_reads_as_published,
    ),
    _extract_case(
        "extract-percent-fractions",
        "every rate in RBN's 2024 row divided by 100 (0.298 for 29.8%)",
        "error: every rate in the row is at most 1, fractions not percentages (file, row, column)",
        _extract_lines(lambda ls: _edit_rbn(ls, _rates_of_rbn_as_fractions)),
        refused(extract, f"file '{EXTRACT_NAME}', row 892, column ", "percentages written as fractions of 1?"),
    ),
    _extract_case(
        "extract-suppressed-new-spellings",
        "RBN's Stress_rate '[c]' and Burned_out_rate '< 10'",
        "parsed: both null (data/reference/suppression_markers.csv), every other value identical",
        _extract_lines(
            lambda ls: _edit_rbn(
                ls,
                lambda line: b.set_field(
                    b.set_field(line, _extract_column("Stress_rate"), "[c]"), _extract_column("Burned_out_rate"), "< 10"
                ),
            )
        ),
        _check_suppressed_extract,
    ),
    _extract_case(
        "extract-wrong-year",
        "a copy without the 2024 rows, read for survey year 2024",
        "error: no rows for the survey year (file, column)",
        _extract_lines(lambda ls: [line for line in ls if ",2024," not in line[:12]]),
        refused(
            extract,
            f"file '{EXTRACT_NAME}', column 'Year': ",
            "has no rows for survey year 2024 (years in the file: 2021, 2022, 2023)",
        ),
    ),
]


def _workbook_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "Staff survey organisational workbook", breakage, outcome, make, check)


def _workbook_edit(**edits) -> Callable[[Path], Path]:
    return lambda folder: b.xlsx_edited(b.real(WORKBOOK), folder / WORKBOOK_NAME, **edits)


def _q12b_of_rbn_as_fractions(folder: Path) -> Path:
    cells = ["M84", "N84", "O84", "P84", "Q84"]
    real = b.cell_text(b.real(WORKBOOK), Q12_SHEET, cells)
    return b.xlsx_edited(
        b.real(WORKBOOK),
        folder / WORKBOOK_NAME,
        cells={Q12_SHEET: {cell: float(value) / 100 for cell, value in real.items()}},
    )


def _check_suppressed_workbook(path: Path) -> None:
    parsed = workbook(path)
    assert _option(parsed, "RBN", "q12b", "Often")["pct"] is None
    assert _option(parsed, "RBN", "q12b", "Always")["pct"] is None
    # 'HEALTH WELLBEING SAFETY Q12' M84 (RBN, Q12b % Never) 9.103141878 is untouched
    assert _option(parsed, "RBN", "q12b", "Never")["pct"] == 9.103141878
    edited = (pl.col("org_code") == "RBN") & (pl.col("source_question_id") == "q12b")
    edited = edited & pl.col("option_label").is_in(["Often", "Always"])
    assert parsed.responses.filter(~edited).equals(real_workbook().responses.filter(~edited))


def _check_renamed_option(path: Path) -> None:
    source = SourceFile("staff_survey", "organisational_workbook", "2024", path, WORKBOOK_NAME, "", "", 0, "", "test")
    refused(
        lambda p: build_survey_year([source], 2024),
        f"file '{WORKBOOK_NAME}', sheet '{Q12_SHEET}', row 5, column ",
        "option 'All the time' of q12",
    )(path)


WORKBOOK_CASES = [
    _workbook_case(
        "workbook-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / WORKBOOK_NAME, b""),
        refused(workbook, f"file '{WORKBOOK_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _workbook_case(
        "workbook-html-as-xlsx",
        "an HTML error page saved under the .xlsx name",
        "error: an HTML page, not an Excel workbook (file)",
        lambda f: b.bytes_written(f / WORKBOOK_NAME, b.ERROR_PAGE),
        refused(workbook, f"file '{WORKBOOK_NAME}': ", "is an HTML/XML page, not an Excel workbook"),
    ),
    _workbook_case(
        "workbook-truncated",
        "download cut off at 60% of the bytes",
        "error: not a readable workbook, truncated or corrupt (file)",
        lambda f: b.truncated(b.real(WORKBOOK), f / WORKBOOK_NAME, 0.6),
        refused(workbook, f"file '{WORKBOOK_NAME}': ", "not a readable Excel workbook (truncated or corrupt?)"),
    ),
    _workbook_case(
        "workbook-score-sheet-renamed",
        "sheet 'PEOPLE PROMISE ELEMENTS' renamed 'PP ELEMENTS'",
        "error: no People Promise sheet (file)",
        _workbook_edit(rename_sheets={"PEOPLE PROMISE ELEMENTS": "PP ELEMENTS"}),
        refused(workbook, f"file '{WORKBOOK_NAME}': ", "has no PEOPLE PROMISE ELEMENTS sheet"),
    ),
    _workbook_case(
        "workbook-question-sheet-renamed",
        "sheet 'YOUR JOB Q1-3' renamed 'Your Job Q1-Q3' (a new vintage's spelling)",
        "parsed: sheets are matched by question range, values identical",
        _workbook_edit(rename_sheets={"YOUR JOB Q1-3": "Your Job Q1-Q3"}),
        lambda path: workbook_reads_as_published(path, sheet_renamed=("YOUR JOB Q1-3", "Your Job Q1-Q3")),
    ),
    _workbook_case(
        "workbook-question-sheet-unrecognisable",
        "sheet 'YOUR JOB Q1-3' renamed 'YOUR JOB' (no question range)",
        "error: a data sheet whose name matches no pattern, so its questions would be lost (file, sheet, row, column)",
        _workbook_edit(rename_sheets={"YOUR JOB Q1-3": "YOUR JOB"}),
        refused(
            workbook,
            f"file '{WORKBOOK_NAME}', sheet 'YOUR JOB', row 5, column 'A (ODS code)': ",
            "its name matches neither a question range",
        ),
    ),
    _workbook_case(
        "workbook-suppressed-new-spellings",
        "RBN's Q12b % Often '[c]' (P84) and % Always '< 5' (Q84)",
        "parsed: both null (data/reference/suppression_markers.csv), every other value identical",
        _workbook_edit(cells={Q12_SHEET: {"P84": "[c]", "Q84": "&lt; 5"}}),
        _check_suppressed_workbook,
    ),
    _workbook_case(
        "workbook-thousands-separators",
        "RBN's Q12b base written as the text '3,912' (R84)",
        "parsed: separators removed, values identical",
        _workbook_edit(cells={Q12_SHEET: {"R84": "3,912"}}),
        workbook_reads_as_published,
    ),
    _workbook_case(
        "workbook-percent-fractions",
        "RBN's Q12b option percentages divided by 100 (M84:Q84)",
        "error: a question's options sum to 1, not 100 (file, sheet, row, column)",
        _q12b_of_rbn_as_fractions,
        refused(
            workbook,
            f"file '{WORKBOOK_NAME}', sheet '{Q12_SHEET}', row 84, column 'M': ",
            "the options of q12b sum to 1, not 100",
        ),
    ),
    _workbook_case(
        "workbook-duplicated-question",
        "the Q12c block relabelled Q12b, so Q12b appears twice",
        "error: question appears in more than one block (file, sheet, row, column)",
        _workbook_edit(
            shared_strings=lambda xml: xml.replace(
                "Q12c - How often, if at all, does your work frustrate you?",
                "Q12b - How often, if at all, do you feel burnt out because of your work?",
            )
        ),
        refused(workbook, f"file '{WORKBOOK_NAME}', sheet '{Q12_SHEET}', row 1, column ", "question q12b appears"),
    ),
    _workbook_case(
        "workbook-renamed-option",
        "option column '% Always' re-headed '% All the time' everywhere",
        "error: an option the scoring catalogue does not know (file, sheet, row, column)",
        _workbook_edit(shared_strings=lambda xml: xml.replace(">% Always<", ">% All the time<")),
        _check_renamed_option,
    ),
    _workbook_case(
        "workbook-wrong-year",
        "the real 2024 workbook loaded as survey year 2023",
        "error: the title names another survey year (file, sheet, row, column)",
        lambda f: b.copy(b.real(WORKBOOK), f / WORKBOOK_NAME),
        refused(
            lambda p: parse_organisational_workbook(p, 2023),
            f"file '{WORKBOOK_NAME}', sheet 'YOUR JOB Q1-3', row 1, column 'A': ",
            "is for survey year 2024, not 2023",
        ),
    ),
]


def _rtt_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "RTT full extract zip", breakage, outcome, make, check)


def _rtt_lines(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], Path]:
    return lambda folder: rtt_zip(folder / RTT_NAME, edit(list(rtt_trimmed_lines())))


def _first_rth_incomplete(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if ",RTH," in line and ",Part_2,Incomplete Pathways,C_999," in line)


def _zip_bomb(folder: Path) -> Path:
    # the real header followed by SYNTHETIC padding: 20 MiB of empty lines bzip2 packs into about 100 bytes
    header = rtt_trimmed_lines()[0].encode()
    return b.zip_of(folder / RTT_NAME, {RTT_MEMBER: header + b"\n" * (20 << 20)}, zipfile.ZIP_BZIP2)


def _check_rtt_thousands(path: Path) -> None:
    parsed = rtt(path)
    same_as(real_rtt_trimmed(), parsed)
    # RTH: 101 Part_2 / C_999 rows from line 135791 of the real CSV, 'Total All' summing to 90,210
    # (read by hand for tests/test_performance_rtt.py)
    assert measure(parsed, "RTH", "rtt_incomplete")["value"] == 90_210


def _rtt_total_all_with_separator(lines: list[str]) -> list[str]:
    """RTH's largest incomplete-pathways 'Total All' (the last column) written with a separator."""
    total_all = len(b.fields(lines[0]))
    rows = [i for i, line in enumerate(lines) if ",RTH," in line and ",Part_2,Incomplete Pathways,C_999," in line]
    i = max(rows, key=lambda r: int(b.fields(lines[r])[total_all - 1]))
    value = b.fields(lines[i])[total_all - 1]
    assert int(value) >= 1000, "the edited count needs four digits for a separator"
    return [*lines[:i], b.set_field(lines[i], total_all, b.thousands(value)), *lines[i + 1 :]]


RTT_CASES = [
    _rtt_case(
        "rtt-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / RTT_NAME, b""),
        refused(rtt, f"file '{RTT_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _rtt_case(
        "rtt-html-as-zip",
        "an HTML error page saved under the .zip name",
        "error: an HTML page, not a zip archive (file)",
        lambda f: b.bytes_written(f / RTT_NAME, b.ERROR_PAGE),
        refused(rtt, f"file '{RTT_NAME}': ", "is an HTML/XML page, not a zip archive"),
    ),
    _rtt_case(
        "rtt-truncated-zip",
        "download cut off at half of the real zip's bytes",
        "error: not a readable zip archive, truncated or corrupt (file)",
        lambda f: b.truncated(b.real(RTT), f / RTT_NAME, 0.5),
        refused(rtt, f"file '{RTT_NAME}': ", "not a readable zip archive (truncated or corrupt"),
    ),
    _rtt_case(
        "rtt-corrupt-member",
        "one byte of the packed CSV flipped, the zip's directory intact",
        "error: the CSV in the zip does not inflate or fails its CRC (file)",
        lambda f: b.byte_flipped_in_member(b.real(RTT), f / RTT_NAME, RTT_MEMBER),
        refused(rtt, f"file '{RTT_NAME}': ", f"the zip member {RTT_MEMBER} could not be read as text lines"),
    ),
    _rtt_case(
        "rtt-path-traversal",
        "the extract (RTH and RGT rows) stored as member '../20260430-RTT-April-2026-full-extract.csv'",
        "error: member name escapes the extraction folder, refused (file)",
        lambda f: rtt_zip(f / RTT_NAME, rtt_trimmed_lines(), member=f"../{RTT_MEMBER}"),
        refused(rtt, f"file '{RTT_NAME}': ", "would be written outside the extraction folder (path traversal)"),
    ),
    _rtt_case(
        "rtt-zip-bomb",
        "a member unpacking to over 1000 times its packed size (real header + SYNTHETIC padding)",
        "error: zip bomb, refused before anything is unpacked (file)",
        _zip_bomb,
        refused(rtt, f"file '{RTT_NAME}': ", "(more than 1000x): a zip bomb, refused"),
    ),
    _rtt_case(
        "rtt-wrong-month",
        "April's extract with Period RTT-March-2026",
        "error: period is not the data month (file, row, column)",
        _rtt_lines(lambda ls: [line.replace("RTT-April-2026", "RTT-March-2026") for line in ls]),
        refused(rtt, f"file '{RTT_NAME}', row ", "column 'Period': period 'RTT-March-2026' is not the data month"),
    ),
    _rtt_case(
        "rtt-duplicated-row",
        "RTH's first incomplete-pathways row repeated",
        "error: provider and commissioner appear twice, would be double counted (file, row, column)",
        _rtt_lines(lambda ls: [*ls[: _first_rth_incomplete(ls) + 1], *ls[_first_rth_incomplete(ls) :]]),
        refused(rtt, f"file '{RTT_NAME}', row ", "column 'Commissioner Org Code': provider RTH and commissioner"),
    ),
    _rtt_case(
        "rtt-thousands-separators",
        "RTH's largest incomplete-pathways 'Total All' written with a thousands separator (quoted)",
        "parsed: separators removed, values identical",
        _rtt_lines(_rtt_total_all_with_separator),
        _check_rtt_thousands,
    ),
]


def _cancer_case(id: str, breakage: str, outcome: str, make: Callable[[Path], Path], check: Callable[[Path], None]):
    return Case(id, "Cancer provider workbook", breakage, outcome, make, check)


def _cancer_edit(**edits) -> Callable[[Path], Path]:
    return lambda folder: b.xlsx_edited(b.real(CANCER), folder / CANCER_NAME, **edits)


def _check_cancer_thousands(path: Path) -> None:
    parsed = cancer(path)
    expected = parse_cancer_workbook(b.real(CANCER), "provider_workbook", CANCER_MONTH, CANCER_NAME)
    same_as(expected, parsed)
    # '28-DAY FDS (ALL ROUTES)' row 81 (RTH): TOTAL 3083, WITHIN 28 DAYS 2350
    rth = measure(parsed, "RTH", "cancer_fds_pct")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (2350, 3083, 81)


CANCER_CASES = [
    _cancer_case(
        "cancer-zero-byte",
        "zero-byte file",
        "error: the file is empty (file)",
        lambda f: b.bytes_written(f / CANCER_NAME, b""),
        refused(cancer, f"file '{CANCER_NAME}': ", "the file is empty (0 bytes)"),
    ),
    _cancer_case(
        "cancer-html-as-xlsx",
        "an HTML error page saved under the .xlsx name",
        "error: an HTML page, not an Excel workbook (file)",
        lambda f: b.bytes_written(f / CANCER_NAME, b.ERROR_PAGE),
        refused(cancer, f"file '{CANCER_NAME}': ", "is an HTML/XML page, not an Excel workbook"),
    ),
    _cancer_case(
        "cancer-truncated",
        "download cut off at 60% of the bytes",
        "error: not a readable workbook, truncated or corrupt (file)",
        lambda f: b.truncated(b.real(CANCER), f / CANCER_NAME, 0.6),
        refused(cancer, f"file '{CANCER_NAME}': ", "not a readable Excel workbook (truncated or corrupt?)"),
    ),
    _cancer_case(
        "cancer-sheet-renamed",
        f"sheet '{FDS_SHEET}' renamed '28-DAY FDS ALL ROUTES'",
        "error: the sheet is missing, the sheets present are listed (file, sheet)",
        _cancer_edit(rename_sheets={FDS_SHEET: "28-DAY FDS ALL ROUTES"}),
        refused(cancer, f"file '{CANCER_NAME}', sheet '{FDS_SHEET}': ", "has no sheet"),
    ),
    _cancer_case(
        "cancer-wrong-month",
        "April's workbook whose title block says Mar-25 (cell A2)",
        "error: the title block gives another month (file, sheet, row, column)",
        _cancer_edit(cells={FDS_SHEET: {"A2": "Mar-25"}}),
        refused(
            cancer,
            f"file '{CANCER_NAME}', sheet '{FDS_SHEET}', row 2, column 'A': ",
            "title block gives March 2025, not the data month April 2025",
        ),
    ),
    _cancer_case(
        "cancer-suppressed-count",
        "RTH's FDS TOTAL (E81) written '*'",
        "error: a count that is not a number (file, sheet, row, column)",
        _cancer_edit(cells={FDS_SHEET: {"E81": "*"}}),
        refused(cancer, f"file '{CANCER_NAME}', sheet '{FDS_SHEET}', row 81, column 'TOTAL': ", "'*' is not a number"),
    ),
    _cancer_case(
        "cancer-thousands-separators",
        "RTH's FDS TOTAL (E81) written as the text '3,083'",
        "parsed: separators removed, values identical",
        _cancer_edit(cells={FDS_SHEET: {"E81": "3,083"}}),
        _check_cancer_thousands,
    ),
]

CASES: list[Case] = [*WORKBOOK_CASES, *EXTRACT_CASES, *ODS_CASES, *AE_CASES, *RTT_CASES, *CANCER_CASES, *SICKNESS_CASES]


def markdown_table() -> str:
    lines = ["| case | dataset | broken copy of the real file | what it gets |", "|---|---|---|---|"]
    lines += [f"| `{c.id}` | {c.dataset} | {c.breakage} | {c.outcome} |" for c in CASES]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
