"""The staff survey reference data files are consistent with each other and with the GX suites."""

import json

import numpy as np
import polars as pl
import pytest

from assets.staged.staff_survey import scoring
from assets.staged.staff_survey.groups import benchmarking_groups, match_group
from pipeline.reference import read_reference
from pipeline.settings import EXPECTATIONS_DIR


def test_crosswalk_covers_2021_to_2025_and_maps_into_the_catalogue() -> None:
    crosswalk = scoring.crosswalk()
    assert sorted(crosswalk["survey_year"].unique()) == [2021, 2022, 2023, 2024, 2025]
    assert crosswalk.filter(pl.struct("survey_year", "source_question_id").is_duplicated()).is_empty()
    targets = set(crosswalk["question_id"].drop_nulls())
    assert targets <= set(scoring.catalogue()["question_id"])
    mapped = crosswalk.filter(pl.col("question_id").is_not_null())
    assert mapped.filter(pl.struct("survey_year", "question_id").is_duplicated()).is_empty()
    assert crosswalk["source"].null_count() == 0
    # documented shifts (data-sources.md §3.6): thinking about leaving is Q22a / Q24a / Q26a
    lookup = {(r["survey_year"], r["source_question_id"]): r["question_id"] for r in crosswalk.iter_rows(named=True)}
    assert (lookup[(2021, "q22a")], lookup[(2022, "q24a")], lookup[(2023, "q26a")]) == ("q26a", "q26a", "q26a")
    assert lookup[(2022, "q17")] == "q18" and lookup[(2021, "q18")] == "q21"


def test_catalogue_options_scores_and_sides_are_consistent() -> None:
    catalogue = scoring.catalogue()
    scales = read_reference("response_scales")
    options_of = scales.group_by("scale_id").agg(pl.col("option_label"))
    options = dict(options_of.iter_rows())
    assert catalogue["question_id"].is_unique().all()
    for row in catalogue.iter_rows(named=True):
        labels = set(options[row["response_scale"]])
        scored = dict(p.split("=") for p in (row["option_scores"] or "").split("|") if p)
        favourable = set(filter(None, (row["favourable_options"] or "").split("|")))
        unfavourable = set(filter(None, (row["unfavourable_options"] or "").split("|")))
        excluded = set(filter(None, (row["excluded_options"] or "").split("|")))
        assert row["polarity_source"] and row["scoring_source"], row["question_id"]
        if not row["scored"]:
            assert row["polarity"] == "not_scored" and not scored
            continue
        assert set(scored) | excluded == labels, row["question_id"]
        assert favourable and unfavourable and not favourable & unfavourable, row["question_id"]
        assert favourable | unfavourable <= set(scored)
        values = {o: float(s) for o, s in scored.items()}
        assert min(values.values()) == 0 and max(values.values()) == 10, row["question_id"]
        assert min(values[o] for o in favourable) > max(values[o] for o in unfavourable), row["question_id"]


@pytest.mark.parametrize(
    ("question", "favourable", "unfavourable"),
    [
        ("q12b", "Never|Rarely", "Often|Always"),
        ("q2a", "Often|Always", "Never|Rarely"),
        ("q11c", "No", "Yes"),
        ("q3f", "Agree|Strongly agree", "Strongly disagree|Disagree"),
        ("q26a", "Strongly disagree|Disagree", "Agree|Strongly agree"),
    ],
)
def test_polarity_of_named_items(question: str, favourable: str, unfavourable: str) -> None:
    row = scoring.catalogue().filter(pl.col("question_id") == question).row(0, named=True)
    assert (row["favourable_options"], row["unfavourable_options"]) == (favourable, unfavourable)


def test_unscored_questions_are_the_demographic_and_factual_ones() -> None:
    unscored = set(scoring.catalogue().filter(~pl.col("scored"))["question_id"])
    assert {"q1", "q10a", "q26d", "q27a", "q28", "q31a", "q35"} <= unscored
    assert not {"q2a", "q12b", "q26a", "q11c", "q13a"} & unscored


def test_every_subscore_item_is_a_scored_catalogue_question_and_untested_ones_say_why() -> None:
    mapping = scoring.subscore_items()
    scored = set(scoring.catalogue().filter("scored")["question_id"])
    assert set(mapping["question_id"]) <= scored
    untested = mapping.filter(~pl.col("tested"))
    assert set(untested["measure_id"]) == {"PP1_1", "PP4_1", "PP4_3", "PP5_2"}
    assert untested["rationale"].str.starts_with("not tested").all()
    assert set(mapping["measure_id"]) <= set(read_reference("people_promise_measures")["measure_id"])


def test_option_sums_recover_exactly_what_they_determine() -> None:
    # synthetic extract-style row (invented numbers): q12b often+always 30, sometimes+ 70, ever 90
    sums = pl.DataFrame(
        {
            "org_code": ["RXX"] * 3,
            "question_id": ["q12b"] * 3,
            "extract_column": ["rate", "sometimes", "ever"],
            "options": [
                ["Often", "Always"],
                ["Sometimes", "Often", "Always"],
                ["Rarely", "Sometimes", "Often", "Always"],
            ],
            "pct": [30.0, 70.0, 90.0],
        }
    )
    row = scoring.items_from_option_sums(sums).row(0, named=True)
    assert row["pct_unfavourable"] == pytest.approx(30) and row["pct_favourable"] == pytest.approx(30)
    assert row["score_0_10"] is None
    assert np.isclose(row["pct_favourable"] + 40 + row["pct_unfavourable"], 100)


def test_benchmarking_groups_fuzzy_matching_and_gx_value_sets() -> None:
    groups = benchmarking_groups()["benchmarking_group"].to_list()
    assert match_group("MH&LD, MH, LD & Community Trust") == groups[2]  # 2020-24 sheet cut to 31 characters
    assert match_group("Acute&Acute Community Trusts") == "Acute and Acute & Community Trusts"
    assert match_group("ambulance trusts ") == "Ambulance Trusts"
    assert match_group("Primary Care Networks") is None
    for suite in ("survey_organisations", "organisations"):
        raw = json.loads((EXPECTATIONS_DIR / f"{suite}.json").read_text())
        sets = [
            e["kwargs"]["value_set"]
            for e in raw["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "benchmarking_group"
        ]
        assert sets == [groups], suite
