"""The trust-level extract (NSS21-NSS24) on real rows, its agreement with the NSS24 workbook, and broken copies."""

from pathlib import Path

import polars as pl
import pytest

from assets.staged.staff_survey.build import build_survey_year, extract_items
from assets.staged.staff_survey.extract import parse_trust_extract
from pipeline.errors import InputDataError
from tests.conftest import NSS24_WORKBOOK
from tests.test_staff_survey_workbook import source_file

EXTRACT = "data_trusts_well-being - organisational results.csv"


@pytest.fixture(scope="module")
def extract_path(real_data: Path) -> Path:
    return real_data / "nhs-staff-survey" / EXTRACT


@pytest.mark.parametrize(("year", "count"), [(2021, 280), (2022, 264), (2023, 268), (2024, 263)])
def test_organisations_per_year(extract_path: Path, year: int, count: int) -> None:
    assert parse_trust_extract(extract_path, year).organisations.height == count


def test_real_rows_read_by_hand(extract_path: Path) -> None:
    # line 91: RBN,2021,St Helens and Knowsley ...,Region 'Cheshire and Merseyside',ICS/STP 'North West' (swapped
    # in 2021), Burned_out_base 2364, Burned_out_rate 34.4377557919398, Burned_out_sometimes_rate 70.009205303263,
    # Stress_base 2350, Stress_rate 43.9981748846791, Autonomy_rate 52.5048085558674
    items, organisations = extract_items(source_file(extract_path, "trust_extract", "2021"), 2021)
    rbn = organisations.filter(pl.col("org_code") == "RBN").row(0, named=True)
    assert (rbn["region"], rbn["ics"]) == ("North West", "Cheshire and Merseyside")
    by_question = {r["question_id"]: r for r in items.filter(pl.col("org_code") == "RBN").iter_rows(named=True)}
    assert by_question["q12b"]["pct_unfavourable"] == pytest.approx(34.4377557919398)
    assert by_question["q12b"]["pct_favourable"] == pytest.approx(100 - 70.009205303263)
    assert by_question["q12b"]["score_0_10"] is None, "often and always are not published separately"
    assert by_question["q12b"]["base"] == 2364
    assert by_question["q11c"]["pct_unfavourable"] == pytest.approx(43.9981748846791)
    assert by_question["q11c"]["score_0_10"] == pytest.approx((100 - 43.9981748846791) / 10)
    assert by_question["q3f"]["pct_favourable"] == pytest.approx(52.5048085558674)
    assert by_question["q3f"]["pct_unfavourable"] is None
    # line 628: RBN,2023,Mersey and West Lancashire ..., ICS 'Cheshire and Merseyside', Autonomy_base 3889,
    # Autonomy_rate 55.654533079222396
    items, organisations = extract_items(source_file(extract_path, "trust_extract", "2023"), 2023)
    rbn = organisations.filter(pl.col("org_code") == "RBN").row(0, named=True)
    assert (rbn["region"], rbn["ics"]) == ("North West", "Cheshire and Merseyside")
    q3f = items.filter((pl.col("org_code") == "RBN") & (pl.col("question_id") == "q3f")).row(0, named=True)
    assert (q3f["pct_favourable"], q3f["base"]) == (pytest.approx(55.654533079222396), 3889)
    # line 7: a 2021 joint CCG code '01T/01V' (two CCGs reporting together) is kept as published
    assert "01T/01V" in parse_trust_extract(extract_path, 2021).organisations["org_code"].to_list()


def test_extract_agrees_with_the_workbook_for_2024(real_data: Path, extract_path: Path) -> None:
    workbook = real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_WORKBOOK
    from_workbook = build_survey_year([source_file(workbook, "organisational_workbook", "2024")], 2024).tables
    items, organisations = extract_items(source_file(extract_path, "trust_extract", "2024"), 2024)
    assert set(organisations["org_code"]) == set(from_workbook["survey_organisations"]["org_code"])
    joined = items.join(from_workbook["staff_survey_items"], on=["org_code", "question_id"], suffix="_workbook")
    assert joined.height == items.height == 263 * 18
    for stat in ("pct_favourable", "pct_unfavourable", "score_0_10", "base"):
        pairs = joined.filter(pl.col(stat).is_not_null())
        assert pairs.height > 0
        assert (pairs[stat] - pairs[f"{stat}_workbook"]).abs().max() < 1e-6, stat


def test_extract_years_build_partial_tables(extract_path: Path) -> None:
    built = build_survey_year([source_file(extract_path, "trust_extract", "2022")], 2022)
    assert built.tables["staff_survey_items"]["question_id"].n_unique() == 18
    assert built.tables["staff_survey_responses"].is_empty() and built.tables["people_promise_scores"].is_empty()
    assert built.metadata["question_coverage"] == "partial"
    assert set(built.tables["staff_survey_items"]["value_source"]) == {"extract"}


def _copy(extract_path: Path, tmp_path: Path, edit) -> Path:
    lines = extract_path.read_text().splitlines()
    target = tmp_path / EXTRACT
    target.write_text("\n".join(edit(lines)) + ("\n" if lines else ""))
    return target


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda lines: [], f"file '{EXTRACT}': the file is empty"),
        (
            lambda lines: [lines[0] + ",Surprise", *[line + ",1" for line in lines[1:]]],
            "row 1, column 'Surprise': column not in the extract layout",
        ),
        (
            lambda lines: [lines[0].replace("Stress_rate", "Stress_pct"), *lines[1:]],
            "row 1, column 'Stress_pct': column not in the extract layout",
        ),
        (
            lambda lines: [*lines[:90], lines[90].replace(",34.4377557919398,", ",high,"), *lines[91:]],
            "row 91, column 'Burned_out_rate': 'high' is not a number",
        ),
    ],
    ids=["empty", "extra-column", "renamed-column", "text-in-number"],
)
def test_broken_extracts_name_file_row_and_column(extract_path: Path, tmp_path: Path, edit, expected) -> None:
    with pytest.raises(InputDataError) as error:
        parse_trust_extract(_copy(extract_path, tmp_path, edit), 2021)
    assert expected in str(error.value)


def test_unknown_benchmarking_group_in_the_extract(extract_path: Path, tmp_path: Path) -> None:
    broken = _copy(
        extract_path, tmp_path, lambda lines: [line.replace(",CCGs,", ",Primary Care Hubs,") for line in lines]
    )
    with pytest.raises(InputDataError, match="row 2, column 'Benchmarking group': unknown benchmarking group"):
        build_survey_year([source_file(broken, "trust_extract", "2021")], 2021)
