"""Trust context indicators: which survey year each dataset joins, reporting sectors, and real values."""

import polars as pl
import pytest

from assets.indicators.build import _context_values, context_survey_years
from assets.indicators.framework import CONTEXT_SOURCE, SURVEY_SOURCE, load_framework
from assets.staged.trust_context.assets import build_trust_context
from pipeline.reference import read_reference
from pipeline.settings import SNAPSHOT_DIR

EXTRACT = SNAPSHOT_DIR / "trust-context-extract" / "trust_profiles.csv"


@pytest.fixture(scope="module")
def values() -> pl.DataFrame:
    orgs = pl.DataFrame(
        {
            "org_code": ["RTH", "RTH", "R1F1", "R1F2", "RRK"],
            "survey_year": [2023, 2024, 2024, 2024, 2024],
            "benchmarking_group": ["Acute and Acute & Community Trusts"] * 3 + ["Ambulance Trusts", "Acute"],
        },
        schema_overrides={"survey_year": pl.Int64},
    )
    return _context_values(load_framework(), build_trust_context(str(EXTRACT), "trust_profiles.csv"), orgs)


def _value(frame: pl.DataFrame, org: str, year: int, indicator: str) -> dict:
    (row,) = frame.filter(
        (pl.col("org_code") == org) & (pl.col("survey_year") == year) & (pl.col("indicator_id") == indicator)
    ).iter_rows(named=True)
    return row


def test_the_window_puts_2025_26_context_in_the_autumn_2024_index_only() -> None:
    years = context_survey_years(
        read_reference("trust_context_datasets"), read_reference("context_window"), [2022, 2023, 2024]
    )
    by_year = {y: set(years.filter(pl.col("survey_year") == y)["dataset"]) for y in (2022, 2023, 2024)}
    # midpoints: ERIC 2024-09, DMA 2025-06, NOF 2025-11, KH03 2026-02, discharge 2026-03; 2024 window Jun 2024-Mar 2026
    assert {"eric", "dma", "nof_trust_data", "kh03_beds", "delayed_discharge", "derived"} <= by_year[2024]
    # 2023's window (June 2023 to March 2025) holds ERIC 2024-25 and KO41a only; 2022's nothing
    assert by_year[2023] == {"eric", "complaints"} and by_year[2022] == set()


def test_real_context_values_join_the_2024_survey(values) -> None:
    # trust_profiles.csv line 163 (RTH): dma_well_led 2.0, planned_surplus_deficit_pct -1.02, 949 of 1024 beds
    assert _value(values, "RTH", 2024, "dma_well_led")["raw_value"] == 2.0
    assert _value(values, "RTH", 2024, "planned_surplus_deficit")["raw_value"] == -1.02
    occupancy = _value(values, "RTH", 2024, "bed_occupancy")
    assert occupancy["raw_value"] == pytest.approx(949 / 1024) and occupancy["period"] == "latest quarter to 2026-03"
    assert occupancy["value_type"] == "administrative" and occupancy["base"] is None
    # line 157 (RRK): ERIC backlog £440.557m over 2474 beds = £178.1k a bed
    assert _value(values, "RRK", 2024, "estates_backlog_per_bed")["raw_value"] == pytest.approx(440.557e3 / 2474)
    # nothing from 2025/26 enters the 2023 index (ERIC alone is in its window, and no indicator uses raw ERIC)
    assert values.filter((pl.col("org_code") == "RTH") & (pl.col("survey_year") == 2023)).is_empty()


def test_r1f1_takes_the_isle_of_wight_trust_context_and_r1f2_none(values) -> None:
    # line 61 (R1F): 270 of 282 G&A beds occupied, DMA well led 2.5
    assert _value(values, "R1F1", 2024, "bed_occupancy")["raw_value"] == pytest.approx(270 / 282)
    assert _value(values, "R1F1", 2024, "dma_well_led")["raw_value"] == 2.5
    assert values.filter(pl.col("org_code") == "R1F2").is_empty()


def test_the_nof_segment_stays_out_of_the_index() -> None:
    framework = load_framework()
    context = framework.indicators.filter(pl.col("source") == CONTEXT_SOURCE)
    assert context.height and not context.filter(pl.col("measure").str.starts_with("nof_")).height
    assert not context.filter(pl.col("measure").str.starts_with("league_")).height
    # non-survey indicators' nominal share of an acute trust's index (equal factor weights)
    assert not framework.indicators.filter(pl.col("indicator_id") == "ae_four_hour").height  # Type 1 only
    per_factor = (
        framework.indicators.filter(pl.col("factor_id").is_not_null())
        .group_by("factor_id")
        .agg(share=pl.col("weight").filter(pl.col("source") != SURVEY_SOURCE).sum() / pl.col("weight").sum())
    )
    assert per_factor["share"].sum() / 7 == pytest.approx((1.5 / 7.5 + 7 / 11.5 + 4.5 / 11.5) / 7)
