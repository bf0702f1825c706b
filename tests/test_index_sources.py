"""index_periods and index_source_weights (assets/index/sources.py)."""

from datetime import date

import polars as pl
import pytest

from assets.index.sources import index_periods, source_parts, source_weights


def _months(dataset: str, first: date, count: int) -> pl.DataFrame:
    months = pl.date_range(first, first.replace(year=first.year + 3), "1mo", eager=True).head(count)
    return pl.DataFrame({"dataset": dataset, "period_month": months})


def test_periods_say_when_the_build_cannot_cover_the_survey_financial_year() -> None:
    # the snapshot's months: A&E April 2024 to June 2025 (15), sickness April 2024 to March 2025 (12), RTT April 2026
    coverage = pl.concat(
        [
            _months("ae", date(2024, 4, 1), 15),
            _months("sickness", date(2024, 4, 1), 12),
            _months("rtt", date(2026, 4, 1), 1),
        ]
    )
    used = pl.DataFrame(
        {"survey_year": [2024, 2024], "source": ["performance_annual"] * 2, "dataset": ["ae", "sickness"]}
    )
    windows = pl.DataFrame({"dataset": ["dma"], "survey_year": [2024]})
    periods = index_periods(
        [2023, 2024],
        coverage,
        used,
        ["ae", "rtt", "sickness"],
        windows,
        pl.DataFrame({"dataset": ["dma"], "period": ["2025"]}),
        0,
        12,
    )
    rows = {(r["survey_year"], r["dataset"]): r for r in periods.iter_rows(named=True)}
    assert rows[(2024, "ae")]["months_held"] == 12 and rows[(2024, "ae")]["used_in_index"]
    assert rows[(2024, "rtt")]["held_period"] == "2026-04 to 2026-04 (1 month)"
    assert rows[(2024, "rtt")]["note"].startswith("not covered: the build holds 0 of the 12 months of 2024-25")
    assert rows[(2023, "ae")]["months_held"] == 0 and not rows[(2023, "ae")]["used_in_index"]
    assert rows[(2024, "dma")]["note"] == "inside the window" and rows[(2023, "dma")]["note"].startswith("outside")


def test_source_weights_by_hand() -> None:
    # two factors of equal index weight; factor 1 has a survey item (w 1) and a context measure (w 1), factor 2 a
    # survey item only. Trust A: z = 1, 1, 1; trust B: z = -1, -1, -1; trust C: z = 0, 0, 0.
    indicators = pl.DataFrame(
        {
            "org_code": ["A"] * 3 + ["B"] * 3 + ["C"] * 3,
            "survey_year": [2024] * 9,
            "indicator_id": ["s1", "c1", "s2"] * 3,
            "norm_score": [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 0.0, 0.0, 0.0],
            "benchmarking_group": ["G"] * 9,
            "source": ["staff_survey_items", "trust_context", "staff_survey_items"] * 3,
        }
    )
    weights = pl.DataFrame({"indicator_id": ["s1", "c1", "s2"], "factor_id": [1, 1, 2], "weight": [1.0, 1.0, 1.0]})
    factors = pl.DataFrame({"factor_id": [1, 2], "index_weight": ["1", "1"]})
    parts = source_parts(indicators, weights, factors)
    # nominal: context = ½ (factor 1) × ½ (its share of factor 1) = 0.25; survey 0.75; index of A = 1
    a = {r["source"]: r for r in parts.filter(pl.col("org_code") == "A").iter_rows(named=True)}
    assert a["trust_context"]["nominal"] == pytest.approx(0.25) and a["staff_survey_items"]["nominal"] == pytest.approx(
        0.75
    )
    assert a["trust_context"]["rebuilt_index"] == pytest.approx(1.0)
    published = pl.DataFrame({"org_code": ["A", "B", "C"], "survey_year": [2024] * 3, "index_score": [2.0, -2.0, 0.0]})
    shares = {r["source"]: r for r in source_weights(parts, published).iter_rows(named=True)}
    # contributions are 0.25 z and 0.75 z with z = 1, -1, 0: variance shares 0.25 and 0.75, and r = 1
    assert shares["trust_context"]["variance_share"] == pytest.approx(0.25)
    assert shares["staff_survey_items"]["variance_share"] == pytest.approx(0.75)
    assert shares["trust_context"]["reconstruction_r"] == pytest.approx(1.0) and shares["trust_context"]["trusts"] == 3
