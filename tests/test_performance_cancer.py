"""Cancer waiting times parsers on the real combined (January 2026) and provider (April 2025) workbooks."""

from datetime import date
from pathlib import Path

import pytest

from assets.staged.cancer.parse import parse_cancer_workbook
from assets.staged.performance.measures import england_from_providers
from pipeline.errors import InputDataError
from tests.helpers.performance import edited_workbook, measure_of

CWT = "cancer-waiting-times"
COMBINED = "January-2026-Monthly-Combined-Workbook-Provisional.xlsx"
PROVIDER = "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL (2).xlsx"


@pytest.fixture(scope="module")
def combined(real_data: Path):
    return parse_cancer_workbook(real_data / CWT / COMBINED, "combined_workbook", date(2026, 1, 1))


@pytest.fixture(scope="module")
def provider(real_data: Path):
    return parse_cancer_workbook(
        real_data / CWT / PROVIDER,
        "provider_workbook",
        date(2025, 4, 1),
        "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx",
    )


def test_combined_workbook_england_fds_is_the_published_figure(combined) -> None:
    # PROVENANCE.md: England FDS in January 2026 was 72.76% (194,784 of 267,704); the Total row is Excel row 16
    totals = {r["measure"]: r for r in combined.file_totals.iter_rows(named=True)}
    fds = totals["cancer_fds_pct"]
    assert (fds["numerator"], fds["denominator"], fds["source_row"]) == (194_784, 267_704, 16)
    assert round(fds["value"], 2) == 72.76
    england = england_from_providers(combined.measures).sort("measure")
    assert england.select("measure", "numerator", "denominator").equals(
        combined.file_totals.sort("measure").select("measure", "numerator", "denominator")
    )


def test_combined_workbook_two_trusts_by_hand(combined) -> None:
    m = combined.measures
    # sheet 'Provider Level Performance' (header Excel row 15): RTH FDS / ALL CANCERS / ALL ROUTES, row 295:
    # Total 3180, Within 2421 (Performance 0.761320755)
    rth = measure_of(m, "RTH", "cancer_fds_pct")
    assert (rth["numerator"], rth["denominator"], rth["source_row"]) == (2421, 3180, 295)
    assert rth["value"] == pytest.approx(76.1320755, abs=1e-6)
    # RTH 31D / ALL STAGES / ALL MODALITIES, row 4374: 859 of 1174
    assert (
        measure_of(m, "RTH", "cancer_31d_pct")["numerator"],
        measure_of(m, "RTH", "cancer_31d_pct")["denominator"],
    ) == (859, 1174)
    # RTH 62D / ALL ROUTES / ALL MODALITIES, row 10385: half counts, 283 of 425.5
    assert measure_of(m, "RTH", "cancer_62d_pct")["denominator"] == 425.5
    # RGT FDS row 240: 2121 of 2564; 62D row 10106: 193.5 of 296
    assert measure_of(m, "RGT", "cancer_fds_pct")["numerator"] == 2121
    rgt62 = measure_of(m, "RGT", "cancer_62d_pct")
    assert (rgt62["numerator"], rgt62["denominator"], rgt62["source_row"]) == (193.5, 296, 10106)
    assert set(m["source_sheet"]) == {"Provider Level Performance"}


def test_provider_workbook_stacked_parts(provider) -> None:
    m = provider.measures
    # '28-DAY FDS (ALL ROUTES)', header row 9, RTH row 81: TOTAL 3083, WITHIN 28 DAYS 2350 (0.762244567)
    fds = measure_of(m, "RTH", "cancer_fds_pct")
    assert (fds["numerator"], fds["denominator"], fds["source_row"], fds["source_sheet"]) == (
        2350,
        3083,
        81,
        "28-DAY FDS (ALL ROUTES)",
    )
    # '31-DAY (ALL CANCER)' PART A: ALL STAGES, RTH row 83: 775 of 1044 (not PART B row 228 or PART C row 372)
    d31 = measure_of(m, "RTH", "cancer_31d_pct")
    assert (d31["numerator"], d31["denominator"], d31["source_row"]) == (775, 1044, 83)
    # '62-DAY (ALL CANCER)' PART A: ALL ROUTES, RTH row 83: 187 of 331.5; RGT row 23: 193 of 265
    assert measure_of(m, "RTH", "cancer_62d_pct")["denominator"] == 331.5
    assert measure_of(m, "RGT", "cancer_62d_pct")["numerator"] == 193
    assert measure_of(m, "RGT", "cancer_31d_pct")["denominator"] == 835


def test_provider_workbook_england_rows_equal_provider_sums(provider) -> None:
    # ALL ENGLISH PROVIDERS rows: FDS 209,566 of 273,167 (row 148); 31D 50,223 of 55,011; 62D 19,102 of 27,347
    totals = provider.file_totals.sort("measure")
    assert totals.select("numerator", "denominator").rows() == [(50_223, 55_011), (19_102, 27_347), (209_566, 273_167)]
    england = england_from_providers(provider.measures).sort("measure")
    assert england["numerator"].to_list() == totals["numerator"].to_list()
    assert england["denominator"].to_list() == totals["denominator"].to_list()
    assert "" not in set(provider.measures["reported_org_code"])


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("E9", "TOTALS", "sheet '28-DAY FDS (ALL ROUTES)', row 9, column 'TOTAL': header has no 'TOTAL' column"),
        ("E81", "n/a", "sheet '28-DAY FDS (ALL ROUTES)', row 81, column 'TOTAL': 'n/a' is not a number"),
        ("F81", -2350, "sheet '28-DAY FDS (ALL ROUTES)', row 81, column 'WITHIN 28 DAYS': '-2350' is negative"),
        ("F81", 4000, "row 81, column 'WITHIN 28 DAYS': cancer_fds_pct within (4000) exceeds its denominator (3083)"),
        ("F81", 2350.25, "row 81, column 'WITHIN 28 DAYS': '2350.25' is not a multiple of 0.5"),
    ],
    ids=["changed-header", "non-numeric-count", "negative-count", "numerator-over-denominator", "quarter-count"],
)
def test_broken_copies_name_file_sheet_row_and_column(real_data: Path, tmp_path: Path, cell, value, expected) -> None:
    broken = edited_workbook(real_data / CWT / PROVIDER, tmp_path / "cwt.xlsx", "28-DAY FDS (ALL ROUTES)", cell, value)
    with pytest.raises(InputDataError) as error:
        parse_cancer_workbook(broken, "provider_workbook", date(2025, 4, 1))
    assert str(error.value).startswith("file 'cwt.xlsx', ") and expected in str(error.value)


def test_wrong_month_is_refused(real_data: Path) -> None:
    with pytest.raises(InputDataError, match="title block gives April 2025, not the data month May 2025"):
        parse_cancer_workbook(real_data / CWT / PROVIDER, "provider_workbook", date(2025, 5, 1))
