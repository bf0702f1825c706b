"""The framework files load, and every kind of bad framework row is rejected with its file, row and field."""

import shutil
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from assets.indicators.framework import (
    SURVEY_SOURCE,
    Framework,
    available_keys,
    indicator_catalogue,
    judged_datasets,
    load_framework,
    validate_framework,
)
from assets.staged.staff_survey.build import build_survey_year
from pipeline.errors import InputDataError
from pipeline.reference import read_reference
from pipeline.settings import FRAMEWORK_DIR
from tests.conftest import NSS24_WORKBOOK
from tests.test_staff_survey_extract import EXTRACT
from tests.test_staff_survey_workbook import source_file


@pytest.fixture(scope="module")
def framework() -> Framework:
    return load_framework()


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "framework"
    shutil.copytree(FRAMEWORK_DIR, target)
    return target


def _edit_cell(directory: Path, file: str, key_column: str, key: str, column: str, value: str | None) -> None:
    path = directory / file
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(
        pl.when(pl.col(key_column) == key).then(pl.lit(value, dtype=pl.String)).otherwise(pl.col(column)).alias(column)
    ).write_csv(path)


def _row_of(framework: Framework, indicator_id: str) -> int:
    """Spreadsheet row of an indicator in indicators.csv (header = row 1)."""
    return framework.indicators["indicator_id"].to_list().index(indicator_id) + 2


def test_real_framework_covers_seven_factors_and_four_barriers(framework: Framework) -> None:
    indicators = framework.indicators
    assert sorted(indicators["factor_id"].drop_nulls().unique().to_list()) == [1, 2, 3, 4, 5, 6, 7]
    # an indicator without a factor is a barrier's own evidence (barrier_indicators.csv)
    assert indicators.filter(pl.col("factor_id").is_null())["barrier"].null_count() == 0
    assert sorted(indicators["barrier"].drop_nulls().unique().to_list()) == [
        "capability",
        "headspace",
        "motivation",
        "recognition",
    ]
    assert indicators["indicator_id"].is_unique().all()
    assert (indicators["weight"] > 0).all() and indicators["rationale"].str.len_chars().min() > 20
    # every barrier maps to a support type, and the three types of Constructive comfort are all used
    support = framework.barriers.join(framework.support_types, on="support_type")
    assert support.height == 4 and support["support_type"].n_unique() == 3
    assert framework.settings.normalisation == "zscore" and framework.settings.interval_level == 0.9


def test_real_framework_is_checked_against_the_real_question_catalogue(framework: Framework) -> None:
    """load_framework reads data/reference/question_catalogue.csv: every survey indicator is a scored question with
    an answer scale whose variance ratio is recorded; performance measures are rates of performance_measures.csv."""
    catalogue = read_reference("question_catalogue")
    survey = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE)
    assert set(survey["question_id"]) <= set(catalogue["question_id"])
    # question_catalogue.csv rows read by hand: q3i agree_5, q12b frequency_5, q23b yes_definitely_3, q14b times_5
    scales = dict(survey.select("question_id", "response_scale").iter_rows())
    assert (scales["q3i"], scales["q12b"], scales["q23b"], scales["q14b"]) == (
        "agree_5",
        "frequency_5",
        "yes_definitely_3",
        "times_5",
    )
    ratios = dict(framework.indicators.select("indicator_id", "variance_ratio").iter_rows())
    # response_scale_variance.csv: agree_5 0.38, frequency_5 0.33, yes_definitely_3 0.55, times_5 1.0
    assert (ratios["enough_staff"], ratios["not_burnt_out"], ratios["appraisal_improved_job"]) == (0.38, 0.33, 0.55)
    assert ratios["no_bullying_from_managers"] == 1.0 and ratios["sickness_absence"] == 0.0
    published = indicator_catalogue(framework)
    assert published.height == framework.indicators.height
    assert published.filter(pl.col("source") == SURVEY_SOURCE)["question_text"].null_count() == 0
    assert "enough staff" in published.filter(pl.col("question_id") == "q3i")["question_text"].item()


def test_every_survey_indicator_is_a_2024_question_of_the_real_nss24_workbook(
    framework: Framework, real_data: Path
) -> None:
    """The question ids use 2024 numbering: each exists in the real NSS24 organisational workbook (row 1 labels
    such as 'Q9a - My immediate manager ... encourages me at work.'), with the wording the label paraphrases."""
    reader = fastexcel.read_excel(real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_WORKBOOK)
    labels = [
        label
        for sheet in reader.sheet_names[1:15]
        for label in reader.load_sheet(sheet, header_row=None, n_rows=1).to_polars().row(0)
        if label and label.startswith("Q")
    ]
    catalogue = pl.DataFrame(
        {
            "question_id": [label.split(" - ")[0].lower() for label in labels],
            "question_text": [label.split(" - ", 1)[1] for label in labels],
        }
    )
    questions = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE)["question_id"]
    assert set(questions) <= set(catalogue["question_id"])
    text = dict(catalogue.iter_rows())
    # row 1 labels read by hand: sheet 'YOUR JOB Q1-3' "Q3i - There are enough staff at this organisation for me to
    # do my job properly."; 'YOUR MANAGERS Q9' "Q9a - My immediate manager ... encourages me at work.";
    # 'YOUR ORGANISATION Q25-26' "Q26a - I often think about leaving this organisation.";
    # 'HEALTH WELLBEING SAFETY Q18-22' "Q19d - We are given feedback about changes made in response to reported
    # errors, near misses and incidents."; 'HEALTH WELLBEING SAFETY Q12' "Q12b - How often, if at all, do you feel
    # burnt out because of your work?"
    assert "enough staff at this organisation" in text["q3i"]
    assert "encourages me at work" in text["q9a"]
    assert "often think about leaving" in text["q26a"]
    assert "feedback about changes made" in text["q19d"]
    assert "burnt out" in text["q12b"]


@pytest.mark.parametrize(
    ("indicator_id", "column", "value", "expected"),
    [
        ("manager_asks_opinion", "factor_id", "9", "column 'factor_id': factor 9 is outside 1-7"),
        ("manager_asks_opinion", "factor_id", "0", "column 'factor_id': factor 0 is outside 1-7"),
        ("manager_asks_opinion", "factor_id", None, "column 'factor_id': factor_id is missing"),
        ("manager_encourages", "barrier", "morale", "column 'barrier': unknown barrier 'morale'"),
        ("manager_encourages", "polarity", None, "column 'polarity': polarity is missing"),
        ("manager_encourages", "polarity", "higher", "column 'polarity': polarity 'higher' is not one of"),
        ("team_freedom", "rationale", None, "column 'rationale': rationale is missing"),
        ("team_freedom", "weight", "0", "column 'weight': weight must be positive, got 0"),
        ("team_freedom", "weight", "-0.5", "column 'weight': weight must be positive, got -0.5"),
        ("team_freedom", "weight", "heavy", "column 'weight': 'heavy' is not a number"),
        ("manager_cares", "indicator_id", "manager_encourages", "duplicate indicator_id 'manager_encourages'"),
        ("manager_cares", "source", "staff_survey", "column 'source': unknown source 'staff_survey'"),
        ("ae_four_hour_type1", "measure", "ae_6hr_pct", "column 'measure': unknown measure 'ae_6hr_pct'"),
        ("ae_four_hour_type1", "measure", "rtt_52w_plus", "measure rtt_52w_plus is a count"),
        ("manager_cares", "question_id", "Q9H", "column 'question_id': question_id 'Q9H' is not a lower-case"),
        ("manager_cares", "question_id", "q99z", "question id q99z is not in the question catalogue"),
        ("manager_cares", "question_id", "q1", "question q1 is not scored"),
        (
            "ae_four_hour_type1",
            "source",
            "people_promise_scores",
            "unknown measure 'ae_4hr_pct_type1' for source people_promise",
        ),
    ],
)
def test_bad_indicator_rows_name_file_row_and_field(
    framework: Framework, tmp_path: Path, indicator_id: str, column: str, value: str | None, expected: str
) -> None:
    directory = _copy(tmp_path)
    _edit_cell(directory, "indicators.csv", "indicator_id", indicator_id, column, value)
    with pytest.raises(InputDataError) as error:
        load_framework(directory)
    message = str(error.value)
    assert message.startswith(f"file 'indicators.csv', row {_row_of(framework, indicator_id)}, ")
    assert expected in message


def test_an_indicator_that_no_year_of_data_provides_is_rejected(framework: Framework) -> None:
    questions = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE)["question_id"].to_list()
    available = pl.DataFrame(
        {
            "source": ["staff_survey_items"] * len(questions) + ["performance_annual"] * 4,
            # cancer data present, but not the 62-day measure an indicator reads
            "key": [*questions, "ae_4hr_pct_type1", "rtt_within_18w_pct", "sickness_absence_pct", "cancer_fds_pct"],
            "period": "2024",
        }
    )
    with pytest.raises(InputDataError) as error:
        validate_framework(framework, available)
    row = _row_of(framework, "cancer_62_day")
    assert str(error.value).startswith(f"file 'indicators.csv', row {row}, column 'measure': no year of data provides")
    assert "cancer_62d_pct in performance_annual" in str(error.value)


def test_a_source_without_any_data_in_the_build_is_reported_not_rejected(framework: Framework) -> None:
    """A web run in which no performance month could be downloaded yet: its indicators cannot be judged."""
    questions = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE)["question_id"].to_list()
    available = pl.DataFrame({"source": "staff_survey_items", "key": questions, "period": "2024"})
    warnings = validate_framework(framework, available)
    not_survey = framework.indicators.filter(pl.col("source") != SURVEY_SOURCE).height
    assert len(warnings) == not_survey and warnings[0] == "rtt_18_weeks: rtt cannot show it missing in this build"


def test_an_extract_only_build_cannot_show_a_question_missing(framework: Framework, real_data: Path) -> None:
    """`--years 2021-2023` offline: the extract's 18 questions a year leave most indicators without data, by design;
    with the 2024 workbook in the build the survey is judged again."""
    extract = source_file(real_data / "nhs-staff-survey" / EXTRACT, "trust_extract", "2023")
    items = build_survey_year([extract], 2023).tables["staff_survey_items"]
    no_scores = pl.DataFrame(schema={"measure_id": pl.String, "survey_year": pl.Int32, "score": pl.Float64})
    no_performance = pl.DataFrame(schema={"measure": pl.String, "financial_year": pl.String, "value": pl.Float64})
    available = available_keys(items, no_scores, no_performance)
    assert judged_datasets(framework, items, available) == set()
    warnings = validate_framework(framework, available, judged_datasets(framework, items, available))
    in_extract = framework.indicators.filter(pl.col("question_id").is_in(available["key"].implode()))
    assert len(warnings) == framework.indicators.height - in_extract.height
    with pytest.raises(InputDataError, match="no year of data provides"):
        validate_framework(framework, available)

    workbook = source_file(
        real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_WORKBOOK, "organisational_workbook", "2024"
    )
    both = pl.concat([items, build_survey_year([workbook], 2024).tables["staff_survey_items"]], how="diagonal_relaxed")
    assert judged_datasets(framework, both, available_keys(both, no_scores, no_performance)) == {SURVEY_SOURCE}


@pytest.mark.parametrize(
    ("file", "key_column", "key", "column", "value", "expected"),
    [
        ("method_settings.csv", "setting", "normalisation", "value", "rank", "normalisation 'rank' is not one of"),
        ("method_settings.csv", "setting", "interval_level", "value", "90", "interval_level must be a number between"),
        ("method_settings.csv", "setting", "seed", "rationale", None, "setting seed has no rationale"),
        ("method_settings.csv", "setting", "min_months_covered", "value", "13", "min_months_covered must be an"),
        ("method_settings.csv", "setting", "non_comparable_items", "value", "keep", "non_comparable_items 'keep' is"),
        ("outcomes.csv", "measure", "ae_4hr_pct_all", "measure", "ae_6hr_pct", "unknown measure 'ae_6hr_pct'"),
        ("published_evidence.csv", "period", "2012-2018", "weights", "responses", "weights 'responses' is not"),
        ("factors.csv", "factor_id", "7", "factor_id", "8", "factor 8 is outside 1-7"),
        ("factors.csv", "factor_id", "3", "index_weight", "0", "index_weight must be positive"),
        ("factor_weight_scenarios.csv", "factor_id", "6", "index_weight", "-1", "index_weight must be positive"),
        ("factor_weight_scenarios.csv", "factor_id", "5", "factor_id", "9", "factor 9 is outside 1-7"),
        ("factor_weight_scenarios.csv", "factor_id", "6", "rationale", None, "rationale is missing"),
        ("barriers.csv", "barrier", "headspace", "support_type", "type_4", "support type 'type_4' is not in"),
    ],
)
def test_bad_settings_factor_and_barrier_files_are_rejected(
    tmp_path: Path, file: str, key_column: str, key: str, column: str, value: str | None, expected: str
) -> None:
    directory = _copy(tmp_path)
    _edit_cell(directory, file, key_column, key, column, value)
    with pytest.raises(InputDataError, match=rf"file '{file}', row \d+") as error:
        load_framework(directory)
    assert expected in str(error.value)


def test_the_mapping_changes_without_code(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    _edit_cell(directory, "indicators.csv", "indicator_id", "team_freedom", "factor_id", "2")
    _edit_cell(directory, "barriers.csv", "barrier", "recognition", "support_type", "type_2")
    changed = load_framework(directory)
    assert changed.indicators.filter(pl.col("indicator_id") == "team_freedom")["factor_id"].item() == 2
    assert changed.barriers.filter(pl.col("barrier") == "recognition")["support_type"].item() == "type_2"
