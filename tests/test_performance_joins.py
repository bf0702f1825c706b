"""Joins that lose nothing: code-table trusts, reporting sectors, merger detection and the annual rules, on the real
monthly files of the snapshot (parsed, matched and summed exactly as the pipeline does, without Dagster)."""

import csv
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.staged.ae.parse import parse_ae_csv
from assets.staged.ods.etr import parse_etr
from assets.staged.performance.annual_rules import add_reporting_sectors, apply_exclusions
from assets.staged.performance.mergers import detect_denominator_jumps
from assets.staged.performance.organisations import CODE_TABLE, code_table_codes, match_organisations
from assets.staged.sickness.parse import parse_sickness_csv
from pipeline.reference import read_reference
from pipeline.settings import SNAPSHOT_DIR
from pipeline.warehouse import sql_file

PERFORMANCE_SQL = Path(__file__).parents[1] / "assets" / "staged" / "performance" / "performance_monthly.sql"


def _manifest(dataset: str, product: str) -> list[dict[str, str]]:
    with (SNAPSHOT_DIR / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if (r["dataset"], r["product"]) == (dataset, product)]


@pytest.fixture(scope="module")
def monthly() -> pl.DataFrame:
    """performance_monthly for the snapshot's A&E CSVs and sickness files (2024-04 to 2025-06)."""
    trusts = parse_etr(SNAPSHOT_DIR / "ods" / "2026" / "etr.csv", read_reference("nhs_regions"))["org_code"]
    staged = []
    for dataset, parse in (("ae", parse_ae_csv), ("sickness", parse_sickness_csv)):
        for row in _manifest(dataset, "monthly_csv"):
            month = date.fromisoformat(row["period"])
            parsed = parse(SNAPSHOT_DIR / row["path"], month, row["official_name"])
            matched = match_organisations(
                parsed.measures, trusts, read_reference("org_successors"), month, code_table_codes()
            )
            staged.append(matched.with_columns(period_month=pl.lit(month)))
    con = duckdb.connect()
    con.register("staged_rows", pl.concat(staged, how="diagonal_relaxed"))
    con.register("performance_measures", read_reference("performance_measures"))
    con.register("ods_code_table", read_reference("ods_code_table"))
    con.register("ods_trusts", parse_etr(SNAPSHOT_DIR / "ods" / "2026" / "etr.csv", read_reference("nhs_regions")))
    sql = sql_file(PERFORMANCE_SQL, "performance_monthly.sql").replace("{staged}", "SELECT * FROM staged_rows")
    return con.sql(sql).pl()


@pytest.fixture(scope="module")
def jumps(monthly) -> pl.DataFrame:
    return detect_denominator_jumps(monthly, read_reference("merger_detection"))


@pytest.fixture(scope="module")
def annual(monthly, jumps) -> pl.DataFrame:
    con = duckdb.connect()
    con.register("performance_monthly", monthly)
    con.register("performance_measures", read_reference("performance_measures"))
    summed = con.sql(sql_file(PERFORMANCE_SQL, "performance_annual.sql")).pl()
    measure_datasets = read_reference("performance_measures").select("measure", "dataset")
    ruled = apply_exclusions(summed, read_reference("performance_annual_rules"), jumps, measure_datasets)
    return add_reporting_sectors(ruled, read_reference("reporting_sectors"), measure_datasets)


def _sickness_by_hand(code: str) -> tuple[float, int]:
    lost = available = 0.0
    months = 0
    for row in _manifest("sickness", "monthly_csv"):
        with (SNAPSHOT_DIR / row["path"]).open(encoding="utf-8-sig") as handle:
            found = [r for r in csv.DictReader(handle) if r["ORG_CODE"] == code]
        for r in found:
            lost += float(r["FTE_DAYS_LOST"])
            available += float(r["FTE_DAYS_AVAILABLE"])
            months += 1
    return 100 * lost / available, months


def _row(frame: pl.DataFrame, org: str, measure: str, year: str = "2024-25") -> dict:
    (row,) = frame.filter(
        (pl.col("org_code") == org) & (pl.col("measure") == measure) & (pl.col("financial_year") == year)
    ).iter_rows(named=True)
    return row


def test_tad_sickness_absence_is_matched_through_the_code_table(monthly, annual) -> None:
    tad = monthly.filter((pl.col("org_code") == "TAD") & (pl.col("measure") == "sickness_absence_pct"))
    assert tad.height == 12 and set(tad["match_status"]) == {CODE_TABLE}
    assert set(tad["org_name"]) == {"Bradford District Care NHS Foundation Trust"}
    # by hand from the 12 CSVs, TAD rows (April 2024: 6299.71309 lost of 90370.96012 available)
    expected, months = _sickness_by_hand("TAD")
    assert months == 12
    row = _row(annual, "TAD", "sickness_absence_pct")
    assert row["value"] == pytest.approx(expected, rel=1e-12) and row["excluded_reason"] is None
    for code in ("TAH", "TAJ"):
        assert _row(annual, code, "sickness_absence_pct")["value"] == pytest.approx(_sickness_by_hand(code)[0])
    # TAF reports April to October 2024 only (North London NHS FT, G6V2S, from November): a part year, not lost
    assert _row(annual, "TAF", "sickness_absence_pct")["months_covered"] == 7


def test_r1f1_takes_r1f_acute_and_sickness_rows_and_r1f2_none(annual) -> None:
    for measure in ("ae_4hr_pct_type1", "sickness_absence_pct"):
        legal, sector = _row(annual, "R1F", measure), _row(annual, "R1F1", measure)
        assert sector["legal_org_code"] == "R1F" and legal["legal_org_code"] == "R1F"
        assert (sector["value"], sector["numerator"], sector["denominator"]) == (
            legal["value"],
            legal["numerator"],
            legal["denominator"],
        )
    # R1F sickness 2024-25 by hand from its 12 rows (April 2024: 5578.94025 of 114377.14088)
    assert _row(annual, "R1F1", "sickness_absence_pct")["value"] == pytest.approx(_sickness_by_hand("R1F")[0])
    assert annual.filter(pl.col("org_code") == "R1F2").is_empty()


def test_ral_january_2025_jump_is_detected_listed_and_excluded(jumps, annual) -> None:
    (ral,) = jumps.filter((pl.col("org_code") == "RAL") & (pl.col("dataset") == "ae")).iter_rows(named=True)
    # Monthly-AE-December-2024.csv and -January-2025.csv, RAL rows: 26,975 then 41,017 attendances of all types
    assert (ral["previous_month"], ral["period_month"]) == (date(2024, 12, 1), date(2025, 1, 1))
    assert (ral["previous_size"], ral["size"]) == (26975, 41017)
    assert ral["change_share"] == pytest.approx(41017 / 26975 - 1)
    assert ral["straddled_financial_year"] == "2024-25"
    row = _row(annual, "RAL", "ae_4hr_pct_type1")
    assert (
        row["value"] is None
        and row["months_covered"] == 12
        and "straddles a change of organisation" in (row["excluded_reason"])
    )
    # RW1's sickness denominator, 233,023 → 357,137 FTE days in October 2024, is the other merger in the issue
    rw1 = jumps.filter((pl.col("org_code") == "RW1") & (pl.col("dataset") == "sickness"))
    assert rw1["period_month"].to_list() == [date(2024, 10, 1)]
    # the 2025-26 months after RAL's jump are one organisation: nothing straddles, nothing excluded for that reason
    later = annual.filter((pl.col("org_code") == "RAL") & (pl.col("financial_year") == "2025-26"))
    assert later.height and not later["excluded_reason"].fill_null("").str.contains("straddles").any()


def test_seasonal_swings_are_not_mergers(jumps) -> None:
    # Alder Hey (RBS): 3,843 attendances in August 2024 then 5,058 (+32%) is a children's hospital's summer dip
    # recovering; RTK's one-month spike (10,757 → 14,951 → 10,512) and RWJ's 28-day February are not mergers either
    assert jumps.filter(pl.col("org_code").is_in(["RBS", "RCU", "RTK", "RWJ"])).is_empty()


def test_type1_applicability_and_minimum_denominators(annual) -> None:
    rules = {r["measure"]: r for r in read_reference("performance_annual_rules").iter_rows(named=True)}
    with_values = annual.filter(pl.col("value").is_not_null())
    for measure, rule in rules.items():
        used = with_values.filter(pl.col("measure") == measure)
        assert (used["denominator"].fill_null(0) >= float(rule["min_annual_denominator"])).all(), measure
    # a trust with attendances but no Type 1 department all year gets no A&E value of either kind
    no_type1 = annual.filter(
        (pl.col("measure") == "ae_4hr_pct_all") & pl.col("excluded_reason").str.starts_with("not applicable")
    )
    assert no_type1.height > 0 and no_type1["value"].is_null().all()
    # Central London Community Healthcare (RYX): 144,135 minor injury attendances in 2024-25, no Type 1 department
    ryx = _row(annual, "RYX", "ae_4hr_pct_all")
    assert ryx["denominator"] == 144135 and ryx["value"] is None
    assert _row(annual, "RYX", "ae_4hr_pct_type1")["denominator"] == 0
