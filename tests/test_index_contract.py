"""Every table the index methodology produces has exactly the columns its data dictionary entry documents,
a unique primary key, and the published-contract column names (synthetic hand-made inputs)."""

import dataclasses
import json

import polars as pl
import pytest

from assets.index.change import year_on_year_change
from assets.index.readiness import readiness_tables
from assets.index.sensitivity import rank_sensitivity
from assets.index.trend import readiness_trend
from assets.index.validity import index_validity
from assets.indicators.build import build_indicators
from assets.indicators.framework import available_keys, indicator_catalogue
from pipeline import dictionary
from tests.helpers.index_frames import (
    ACUTE,
    framework_with,
    measure_indicator,
    organisations,
    people_promise,
    performance,
    survey_indicator,
    survey_items,
)

CONTRACT = {
    "indicator_catalogue": [
        "indicator_id",
        "source",
        "question_id",
        "measure",
        "factor_id",
        "barrier",
        "polarity",
        "weight",
        "rationale",
    ],
    "indicators": ["org_code", "survey_year", "indicator_id", "raw_value", "base", "norm_score"],
    "factor_scores": [
        "org_code",
        "survey_year",
        "factor_id",
        "factor_name",
        "score",
        "score_lo",
        "score_hi",
        "coverage",
    ],
    "barrier_scores": [
        "org_code",
        "survey_year",
        "barrier",
        "barrier_name",
        "score",
        "score_lo",
        "score_hi",
        "coverage",
    ],
    "readiness_index": [
        "org_code",
        "survey_year",
        "benchmarking_group",
        "index_score",
        "index_lo",
        "index_hi",
        "rank_in_group",
        "rank_lo",
        "rank_hi",
        "n_in_group",
        "coverage",
        "weakest_factor_1",
        "weakest_factor_2",
        "weakest_barrier",
        "suggested_support_type",
    ],
}


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    framework = framework_with(
        [
            survey_indicator("a", "q9a", 1, barrier="motivation"),
            survey_indicator("b", "q9c", 2, barrier="headspace"),
            measure_indicator("e", "people_promise_scores", "E_1", 3, barrier="capability"),
            measure_indicator("s", "performance_annual", "sickness_absence_pct", 6, polarity="higher_worse"),
        ],
        min_peers=3,
        min_index_coverage=0.0,
        mc_draws=200,
    )
    trusts = ("T1", "T2", "T3", "T4")
    inputs = {
        "staff_survey_items": survey_items(
            [
                (t, y, q, 5.0 + i + (y - 2023), 50.0 + i, None, 400)
                for i, t in enumerate(trusts)
                for y in (2023, 2024)
                for q in ("q9a", "q9c")
            ]
        ),
        "people_promise_scores": people_promise([(t, 2024, "E_1", 6.0 + i / 3, 380.0) for i, t in enumerate(trusts)]),
        "performance_annual": performance(
            [
                (t, "2024-25", m, 4.0 + i / 2, 900.0)
                for i, t in enumerate(trusts)
                for m in ("sickness_absence_pct", "ae_4hr_pct_all")
            ]
        ),
        "survey_organisations": organisations([(t, y, ACUTE) for t in trusts for y in (2023, 2024)]),
    }
    indicators = build_indicators(framework, **inputs)
    readiness = readiness_tables(indicators, framework)
    # synthetic panel of the engagement_shmi shape (read_engagement_panel's columns)
    panel = pl.DataFrame(
        {
            "org_code": ["T1", "T2", "T3", "T4"] * 2,
            "year": [2012] * 4 + [2013] * 4,
            "engagement": [3.6, 3.7, 3.8, 3.9, 3.7, 3.8, 3.7, 4.0],
            "shmi": [1.05, 1.02, 0.98, 0.97, 1.01, 1.0, 1.03, 0.95],
            "shmi_before": [1.04, 1.0, 1.0, 0.99, 1.05, 1.02, 0.98, 0.97],
            "responses": [400.0, 500.0, 600.0, 700.0, 450.0, 550.0, 650.0, 750.0],
            "clinical_proportion": 0.7,
        }
    )
    available = available_keys(
        inputs["staff_survey_items"], inputs["people_promise_scores"], inputs["performance_annual"]
    )
    return {
        "indicator_catalogue": indicator_catalogue(framework, available),
        "indicators": indicators,
        "factor_scores": readiness.factor_scores,
        "barrier_scores": readiness.barrier_scores,
        "readiness_index": readiness.readiness_index,
        "index_sensitivity": rank_sensitivity(indicators, framework),
        "index_validity": index_validity(
            indicators, readiness.factor_scores, framework, inputs["performance_annual"], panel
        ),
        "readiness_trend": readiness_trend(indicators, framework),
        # the synthetic years share one or two questions; the minimum of 3 is tested on real data
        "readiness_change": year_on_year_change(indicators, framework.with_settings(min_common_indicators=1)),
    }


@pytest.mark.parametrize(
    "name",
    [
        "indicator_catalogue",
        "indicators",
        "factor_scores",
        "barrier_scores",
        "readiness_index",
        "index_sensitivity",
        "index_validity",
        "readiness_change",
        "readiness_trend",
    ],
)
def test_columns_match_the_data_dictionary_and_the_key_is_unique(tables, name: str) -> None:
    doc = dictionary.table(name)
    frame = tables[name]
    assert frame.height > 0
    assert frame.columns == list(doc.columns), f"{name}: columns differ from data/dictionary/{name}.yaml"
    assert frame.select(doc.primary_key).is_unique().all(), f"{name}: duplicated primary key {doc.primary_key}"
    assert frame.select(doc.primary_key).null_count().row(0) == (0,) * len(doc.primary_key) or name == "index_validity"
    assert list(doc.columns)[: len(CONTRACT.get(name, []))] == CONTRACT.get(name, [])


def test_catalogue_lists_the_periods_each_indicator_has_data(tables) -> None:
    catalogue = {r["indicator_id"]: r for r in tables["indicator_catalogue"].iter_rows(named=True)}
    assert catalogue["a"]["periods_available"] == "2023, 2024"
    assert catalogue["e"]["periods_available"] == "2024"
    assert catalogue["s"]["periods_available"] == "2024-25"
    # question_catalogue.csv, q9a: "My immediate manager ... encourages me at work."
    assert "encourages me at work" in catalogue["a"]["question_text"] and catalogue["s"]["question_text"] is None


SUITES = ("indicator_catalogue", "indicators", "factor_scores", "barrier_scores", "readiness_index", "readiness_trend")


@pytest.mark.parametrize("name", SUITES)
def test_every_suite_names_only_documented_columns(name: str) -> None:
    from pipeline.gx_validate import load_suite_json

    documented = set(dictionary.table(name).columns)
    for expectation in load_suite_json(name)["expectations"]:
        kwargs = expectation["kwargs"]
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs] + kwargs.get("column_list", [])
        assert set(named) <= documented, f"expectations/{name}.json: {expectation}"


def test_great_expectations_accept_the_index_and_catch_a_broken_interval(tables) -> None:
    from pipeline.gx_validate import load_suite, validate_frame  # GX takes about 2 s to import

    for name in SUITES:
        load_suite(name)  # raises when GX would silently drop an invalid expectation
    result = validate_frame(tables["readiness_index"].to_pandas(), "readiness_index", ["org_code", "survey_year"])
    assert result.passed, [f.describe() for f in result.failures]
    broken = tables["readiness_index"].with_columns(index_lo=pl.col("index_score") + 1)
    result = validate_frame(broken.to_pandas(), "readiness_index", ["org_code", "survey_year"])
    assert not result.passed
    assert [f.expectation for f in result.failures] == ["expect_column_pair_values_a_to_be_greater_than_b"]
    # the asset check records the failures as JSON metadata: every field must serialise
    failure = json.loads(json.dumps(dataclasses.asdict(result.failures[0])))
    assert failure["severity"] == "critical" and failure["column"] == "index_score, index_lo"
