"""Validity statistics on hand-made data, and the engagement-SHMI association on the real 2012-2019 panel."""

import csv
import statistics
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.index.validity import (
    cronbach_alpha,
    engagement_shmi,
    factor_alphas,
    factor_correlations,
    fisher_interval,
    outcome_associations,
    pearson,
    read_engagement_panel,
)
from assets.indicators.build import normalise
from assets.indicators.framework import load_framework
from pipeline.errors import InputDataError
from tests.helpers.index_frames import framework_with, indicator_rows, measure_indicator, performance, survey_indicator

PANEL = "nhs-staff-survey/data.NHS.2012_2019.csv"


def test_cronbach_alpha_by_hand() -> None:
    items = np.array([[1, 2], [2, 4], [3, 5], [4, 5], [np.nan, 1]])
    # complete rows only; item variances 5/3 and 2, variance of the row sums (3, 6, 8, 9) = 7:
    # alpha = 2/1 x (1 - (5/3 + 2) / 7) = 0.952381
    assert cronbach_alpha(items) == pytest.approx(0.952381, abs=1e-6)
    assert cronbach_alpha(items[:, :1]) is None  # one item has no internal consistency
    # two uncorrelated items (row sums have the variance of the parts): alpha = 2 x (1 - 2/2) = 0
    assert cronbach_alpha(np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])) == pytest.approx(0.0)


def test_pearson_and_fisher_interval_by_hand() -> None:
    x = np.array([1, 2, 3, 4, 5, np.nan])
    y = np.array([2, 4, 5, 4, 5, 3])
    r, n = pearson(x, y)
    # deviations (-2..2) and (-2, 0, 1, 0, 1): r = 6 / sqrt(10 x 6) = 0.774597 over the 5 complete pairs
    assert (r, n) == (pytest.approx(0.774597, abs=1e-6), 5)
    low, high = fisher_interval(r, n, 0.95)
    # tanh(atanh(0.774597) -+ 1.959964 / sqrt(2))
    assert (low, high) == (pytest.approx(-0.340082, abs=1e-6), pytest.approx(0.984236, abs=1e-6))
    assert fisher_interval(1.0, 10, 0.95) == (None, None)


def test_factor_alpha_and_redundant_factor_pair() -> None:
    framework = framework_with(
        [
            survey_indicator("a", "q1a", 1),
            survey_indicator("b", "q1b", 1),
            survey_indicator("c", "q2a", 2),
        ]
    )
    indicators = indicator_rows(
        [(t, 2024, "a", v) for t, v in (("T1", 1), ("T2", 2), ("T3", 3), ("T4", 4))]
        + [(t, 2024, "b", v) for t, v in (("T1", 2), ("T2", 4), ("T3", 5), ("T4", 5))]
    ).with_columns(norm_score=pl.col("raw_value"))
    alpha = factor_alphas(indicators, framework).row(0, named=True)
    assert (alpha["subject"], alpha["n"]) == ("factor_1", 4)
    assert alpha["estimate"] == pytest.approx(0.952381, abs=1e-6)  # the matrix of test_cronbach_alpha_by_hand
    factor_scores = pl.DataFrame(
        {
            "org_code": ["T1", "T2", "T3", "T4"] * 3,
            "survey_year": 2024,
            "factor_id": [1] * 4 + [2] * 4 + [3] * 4,
            "score": [1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0, 1.0, -1.0, 1.0, -1.0],
        }
    )
    correlations = factor_correlations(factor_scores, threshold=0.9, level=0.95)
    pairs = {(r["subject"], r["subject_b"]): r for r in correlations.iter_rows(named=True)}
    assert pairs[("factor_1", "factor_2")]["estimate"] == pytest.approx(1.0)
    assert "measure the same thing" in pairs[("factor_1", "factor_2")]["note"]
    # (1, 2, 3, 4) against (1, -1, 1, -1): deviations (-1.5, -.5, .5, 1.5) x (1, -1, 1, -1) sum to -2;
    # r = -2 / sqrt(5 x 4) = -0.447214, not redundant
    assert pairs[("factor_1", "factor_3")]["estimate"] == pytest.approx(-0.447214, abs=1e-6)
    assert pairs[("factor_1", "factor_3")]["note"] is None


def test_outcome_association_is_reported_for_the_survey_only_index_too() -> None:
    framework = framework_with(
        [
            survey_indicator("a", "q1a", 1),
            measure_indicator("sickness", "performance_annual", "sickness_absence_pct", 6, polarity="higher_worse"),
        ],
        min_peers=3,
        min_index_coverage=0.0,
    )
    survey = [("T1", 5.0), ("T2", 6.0), ("T3", 7.0), ("T4", 9.0)]
    # synthetic outcome: sickness absence falls exactly linearly with the survey score: 10 - score
    absence = [(t, "2024/25", "sickness_absence_pct", 10.0 - v, 100.0) for t, v in survey]
    indicators = normalise(
        pl.concat(
            [
                indicator_rows([(t, 2024, "a", v) for t, v in survey]),
                indicator_rows([(t, 2024, "sickness", 10.0 - v) for t, v in survey]).with_columns(
                    orientation=pl.lit(-1, dtype=pl.Int64),
                    source=pl.lit("performance_annual"),
                    value_type=pl.lit("administrative"),
                ),
            ]
        ),
        "zscore",
        3,
    )
    rows = {
        (r["subject"], r["subject_b"]): r
        for r in outcome_associations(indicators, framework, performance(absence)).iter_rows(named=True)
    }
    survey_only = rows[("survey_only_index", "sickness_absence_pct")]
    assert survey_only["estimate"] == pytest.approx(-1.0) and survey_only["n"] == 4
    assert survey_only["expected_sign"] == -1 and survey_only["note"] is None
    assert "not independent" in rows[("readiness_index", "sickness_absence_pct")]["note"]
    # no A&E or RTT values: no pairs, no estimate
    assert rows[("survey_only_index", "ae_4hr_pct_all")]["estimate"] is None


def _independent_panel_correlation(path: Path, year: str | None = None) -> tuple[float, int]:
    """Pearson r of Engagement.Index and SHMI.Index with the csv module and statistics.correlation."""
    with path.open(newline="") as handle:
        pairs = [
            (float(row["Engagement.Index"]), float(row["SHMI.Index"]))
            for row in csv.DictReader(handle)
            if row["Engagement.Index"] != "NA" and row["SHMI.Index"] != "NA" and year in (None, row["Year.Index"])
        ]
    engagement, shmi = zip(*pairs, strict=True)
    return statistics.correlation(engagement, shmi), len(pairs)


def test_engagement_shmi_association_on_the_real_panel(real_data: Path) -> None:
    path = real_data / PANEL
    panel = read_engagement_panel(path)
    # data.NHS.2012_2019.csv row 2 (first data row), read by hand: Code "R1F", Year.Index 2012, SHMI.Index 1.0769,
    # Engagement.Index NA (Isle of Wight has no survey value that year)
    assert panel.row(0) == ("R1F", 2012, None, 1.0769)
    rows = {(r["period"], r["statistic"]): r for r in engagement_shmi(panel, load_framework()).iter_rows(named=True)}
    pooled = rows[("2012-2019", "pearson_r")]
    expected, n = _independent_panel_correlation(path)
    assert pooled["estimate"] == pytest.approx(expected, abs=1e-9)
    assert pooled["n"] == n
    assert pooled["ci_lo"] < pooled["estimate"] < pooled["ci_hi"]
    # data-sources.md quotes no published figure, so none is shown; the note says so
    assert pooled["published_estimate"] is None and "cites no published figure" in pooled["note"]
    year_2019, n_2019 = _independent_panel_correlation(path, "2019")
    assert rows[("2019", "pearson_r")]["estimate"] == pytest.approx(year_2019, abs=1e-9)
    assert rows[("2019", "pearson_r")]["n"] == n_2019
    slope = rows[("2012-2019", "slope_shmi_per_engagement_point")]
    assert np.sign(slope["estimate"]) == np.sign(pooled["estimate"])
    assert slope["ci_lo"] < slope["estimate"] < slope["ci_hi"]


def test_a_broken_panel_names_file_row_and_column(real_data: Path, tmp_path: Path) -> None:
    lines = (real_data / PANEL).read_text().splitlines()
    broken = tmp_path / "panel.csv"
    broken.write_text("\n".join([lines[0], lines[1], lines[2].replace(",1.099,", ",high,", 1), *lines[3:]]))
    with pytest.raises(InputDataError, match=r"file 'panel.csv', row 3, column 'SHMI.Index': 'high' is not a number"):
        read_engagement_panel(broken)
    missing = tmp_path / "short.csv"
    missing.write_text(lines[0].replace('"SHMI.Index"', '"SHMI"') + "\n" + lines[1])
    with pytest.raises(InputDataError, match=r"row 1, column 'SHMI.Index': required column is missing"):
        read_engagement_panel(missing)
