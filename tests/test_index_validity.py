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
            survey_indicator("a", "q9a", 1),
            survey_indicator("b", "q9b", 1),
            survey_indicator("c", "q9c", 2),
        ]
    )
    indicators = indicator_rows(
        [(t, 2024, "a", v) for t, v in (("T1", 1), ("T2", 2), ("T3", 3), ("T4", 4))]
        + [(t, 2024, "b", v) for t, v in (("T1", 2), ("T2", 4), ("T3", 5), ("T4", 5))]
    ).with_columns(norm_score=pl.col("raw_value"))
    alpha = factor_alphas(indicators, framework).row(0, named=True)
    assert (alpha["subject"], alpha["n"]) == ("factor_1", 4)
    assert alpha["estimate"] == pytest.approx(0.952381, abs=1e-6)  # the matrix of test_cronbach_alpha_by_hand
    # a barrier's own indicator belongs to no factor: no alpha row for it, and factor 1 keeps only its own items
    barrier_only = framework.with_indicators(
        framework.indicators.with_columns(
            factor_id=pl.when(pl.col("indicator_id") == "b").then(None).otherwise(pl.col("factor_id"))
        )
    )
    assert "factor_None" not in factor_alphas(indicators, barrier_only)["subject"].to_list()
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


def _sickness_case(**settings: object) -> tuple[pl.DataFrame, object, list[tuple[str, float]]]:
    framework = framework_with(
        [
            survey_indicator("a", "q9a", 1),
            measure_indicator("sickness", "performance_annual", "sickness_absence_pct", 6, polarity="higher_worse"),
        ],
        **{"min_peers": 3, "min_index_coverage": 0.0, **settings},
    )
    survey = [("T1", 5.0), ("T2", 6.0), ("T3", 7.0), ("T4", 9.0)]
    indicators = normalise(
        pl.concat(
            [
                indicator_rows([(t, 2024, "a", v) for t, v in survey]),
                # the half-weighted outcome indicator is deliberately unrelated to the survey item
                indicator_rows(
                    [(t, 2024, "sickness", v) for t, v in zip(("T1", "T2", "T3", "T4"), (6, 4, 7, 5), strict=True)]
                ).with_columns(
                    orientation=pl.lit(-1, dtype=pl.Int64),
                    source=pl.lit("performance_annual"),
                    value_type=pl.lit("administrative"),
                ),
            ]
        ),
        "zscore",
        3,
    )
    return indicators, framework, survey


def test_an_outcome_that_is_also_an_indicator_is_tested_against_the_index_without_it() -> None:
    indicators, framework, survey = _sickness_case()
    # synthetic outcome: sickness absence falls exactly linearly with the survey score: 10 - score
    absence = performance([(t, "2024-25", "sickness_absence_pct", 10.0 - v, 100.0) for t, v in survey])
    rows = {
        (r["subject"], r["subject_b"]): r
        for r in outcome_associations(indicators, framework, absence).iter_rows(named=True)
    }
    # without its own indicator the index is the z-score of a alone, and the outcome is exactly -a: r = -1
    own = rows[("readiness_index_without_outcome", "sickness_absence_pct")]
    assert own["estimate"] == pytest.approx(-1.0) and own["n"] == 4 and own["expected_sign"] == -1
    assert "also indicator sickness of the index" in own["note"]
    # A&E is no indicator of this index, so the published index is used; there are no A&E values: not estimable
    ae = rows[("readiness_index", "ae_4hr_pct_all")]
    assert (ae["estimate"], ae["ci_lo"], ae["n"]) == (None, None, 0)
    assert ae["note"] == (
        "not estimable: performance_annual has no ae_4hr_pct_all for financial year 2024-25 with 12 months "
        "(it holds no financial year)"
    )


def test_an_outcome_year_without_data_or_ranked_trusts_is_not_estimable() -> None:
    indicators, framework, survey = _sickness_case()
    later = performance([(t, "2026-27", "sickness_absence_pct", 10.0 - v, 100.0) for t, v in survey])
    (row,) = (
        outcome_associations(indicators, framework, later)
        .filter(pl.col("subject_b") == "sickness_absence_pct")
        .iter_rows(named=True)
    )
    assert row["n"] == 0 and row["estimate"] is None
    assert row["note"].startswith(
        "not estimable: performance_annual has no sickness_absence_pct for financial year 2024-25 with 12 months "
        "(it holds 2026-27)"
    )
    part_year = performance([(t, "2024-25", "sickness_absence_pct", 10.0 - v, 100.0) for t, v in survey], 9)
    (row,) = (
        outcome_associations(indicators, framework, part_year)
        .filter(pl.col("subject_b") == "sickness_absence_pct")
        .iter_rows(named=True)
    )
    assert row["n"] == 0 and "(it holds 2024-25)" in row["note"]
    # coverage 2 of 7 factors = 0.29: below a minimum of 0.5 no trust is ranked
    indicators, framework, survey = _sickness_case(min_index_coverage=0.5)
    absence = performance([(t, "2024-25", "sickness_absence_pct", 10.0 - v, 100.0) for t, v in survey])
    (row,) = (
        outcome_associations(indicators, framework, absence)
        .filter(pl.col("subject_b") == "sickness_absence_pct")
        .iter_rows(named=True)
    )
    assert row["n"] == 0 and row["note"].startswith(
        "not estimable: no trust is ranked in survey year 2024 (index coverage below 0.5)"
    )


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


def _independent_beta(path: Path, last_year: int, weighted: bool) -> tuple[float, int]:
    """Engagement coefficient of SHMI.Index ~ Engagement.Index + SHMI.before by numpy least squares on rows read
    with the csv module (weights: Responses x Survey.clinical.proportion)."""
    columns = ["SHMI.Index", "Engagement.Index", "SHMI.before", "Responses", "Survey.clinical.proportion"]
    with path.open(newline="") as handle:
        rows = [
            [float(row[c]) for c in columns]
            for row in csv.DictReader(handle)
            if int(row["Year.Index"]) <= last_year and all(row[c] != "NA" for c in columns)
        ]
    data = np.array(rows)
    root_weight = np.sqrt(data[:, 3] * data[:, 4]) if weighted else np.ones(len(data))
    design = np.column_stack([np.ones(len(data)), data[:, 1], data[:, 2]]) * root_weight[:, None]
    beta = np.linalg.lstsq(design, data[:, 0] * root_weight, rcond=None)[0]
    return float(beta[1]), len(data)


def test_the_panel_columns_are_what_the_methodology_says(real_data: Path) -> None:
    panel = read_engagement_panel(real_data / PANEL)
    # data.NHS.2012_2019.csv row 2 (first data row), read by hand: Code "R1F", Year.Index 2012, SHMI.before NA,
    # SHMI.Index 1.0769, Engagement.Index, Responses and Survey.clinical.proportion NA (no survey value that year)
    assert panel.row(0) == ("R1F", 2012, None, 1.0769, None, None, None)
    # row 15: R1H 2017, Engagement.Index 3.91333333333333, Responses 6513, Survey.clinical.proportion 0.71. The ST17
    # extract 2017.NHS-detailed.csv row 4 (R1H) has q2a % Never..Always 3, 9, 30, 37, 21; q2b 1, 5, 21, 37, 35;
    # q2c 2, 4, 19, 34, 42; q1 'Frequently' 71 and q1.Respondents "6,513". On the 1-5 scale q2a = 3.64,
    # q2b = 3.97, q2c = 4.13, whose mean is 3.913333: the engagement index is the mean of q2a-q2c (look forward to
    # work, enthusiastic, time passes quickly), Responses the q1 respondents and the clinical proportion q1's
    # 'frequent patient contact' share.
    r1h = panel.filter((pl.col("org_code") == "R1H") & (pl.col("year") == 2017)).row(0, named=True)
    assert r1h["engagement"] == pytest.approx((3.64 + 3.97 + 4.13) / 3, abs=1e-9)
    assert (r1h["responses"], r1h["clinical_proportion"], r1h["shmi_before"]) == (6513, 0.71, 0.8821)
    # rows 363-364 (RGT): SHMI.before of 2018 is the SHMI.Index of 2017, 0.8651
    rgt = panel.filter(pl.col("org_code") == "RGT").sort("year")
    assert rgt.filter(pl.col("year") == 2017)["shmi"].item() == rgt.filter(pl.col("year") == 2018)["shmi_before"].item()


def test_engagement_shmi_on_the_real_panel_beside_the_published_figure(real_data: Path) -> None:
    path = real_data / PANEL
    rows = {
        (r["period"], r["statistic"]): r
        for r in engagement_shmi(read_engagement_panel(path), load_framework()).iter_rows(named=True)
    }
    pooled = rows[("2012-2019", "pearson_r")]
    expected, n = _independent_panel_correlation(path)
    assert pooled["estimate"] == pytest.approx(expected, abs=1e-9) and pooled["n"] == n
    assert pooled["ci_lo"] < pooled["estimate"] < pooled["ci_hi"]
    year_2019, n_2019 = _independent_panel_correlation(path, "2019")
    assert rows[("2019", "pearson_r")]["estimate"] == pytest.approx(year_2019, abs=1e-9)
    assert rows[("2019", "pearson_r")]["n"] == n_2019
    # Badgett et al.'s model on the paper's years (2012-2018) with the authors' weights
    paper = rows[("2012-2018", "beta_given_prior_shmi_weighted")]
    beta, n_paper = _independent_beta(path, 2018, weighted=True)
    assert paper["estimate"] == pytest.approx(beta, abs=1e-12) and paper["n"] == n_paper
    assert paper["ci_lo"] < paper["estimate"] < paper["ci_hi"]
    # it reproduces the published coefficient, from data/framework/published_evidence.csv with its citation
    assert paper["published_estimate"] == -0.044 and round(paper["estimate"], 3) == -0.044
    assert (
        "PMID 33051836" in paper["published_source"] and "DOI 10.1007/s11606-020-06045-0" in paper["published_source"]
    )
    unweighted = rows[("2012-2019", "beta_given_prior_shmi_unweighted")]
    assert unweighted["estimate"] == pytest.approx(_independent_beta(path, 2019, weighted=False)[0], abs=1e-12)


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
