"""The benchmark report Excel data parser on SYNTHETIC workbooks in the documented layout (no real copy exists):
invented numbers, built here only to exercise the layout, the 0-1 / 0-100 scales and fuzzy sheet names."""

from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook

from assets.staged.staff_survey.benchmark import parse_benchmark_workbook
from assets.staged.staff_survey.build import build_survey_year
from pipeline.errors import InputDataError
from tests.helpers.staff_survey import SYNTHETIC_NOTE
from tests.test_staff_survey_workbook import source_file

HEADER = [
    "org_id",
    "org_name",
    "org_type_reporting_name",
    "PP1_2024",
    "PP1_n_2024",
    "PP1_2023",
    "PP1_n_2023",
    "theme_engagement_2024",
    "theme_engagement_n_2024",
    "q25c_2024",
    "q25c_n_2024",
    "q26a_2024",
    "q26a_n_2024",
    "PP1_2024_sig",
]


def _benchmark(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append([SYNTHETIC_NOTE])
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def _acute_rows(q25c: float, q26a: float) -> list[list[object]]:
    return [
        HEADER,
        ["RXX", "Synthetic Acute Trust", None, 7.2, 900, 7.0, 850, 6.8, 905, q25c, 880, q26a, 870, "ns"],
        ["RYY", "Synthetic Other Trust", None, "-", 8, 6.9, 700, 6.5, 610, "*", 8, "*", 8, "ns"],
    ]


@pytest.mark.parametrize(("release", "q25c", "q26a"), [(2025, 0.61, 0.275), (2024, 61.0, 27.5)])
def test_question_percentages_are_on_the_0_to_100_scale_in_every_release(tmp_path, release, q25c, q26a) -> None:
    path = _benchmark(
        tmp_path / f"benchmark-{release}.xlsx",
        {
            "Acute&Acute Community Trusts": _acute_rows(q25c, q26a),
            "MH&LD, MH, LD & Community Trust": [
                HEADER,
                [
                    "RZZ",
                    "Synthetic MH Trust",
                    None,
                    7.5,
                    500,
                    7.4,
                    480,
                    7.0,
                    505,
                    70.0 / (100 if release >= 2025 else 1),
                    490,
                    20.0 / (100 if release >= 2025 else 1),
                    488,
                    "ns",
                ],
            ],
        },
    )
    parsed = parse_benchmark_workbook(path, release)
    groups = dict(parsed.organisations.select("org_code", "benchmarking_group").iter_rows())
    assert groups == {
        "RXX": "Acute and Acute & Community Trusts",
        "RYY": "Acute and Acute & Community Trusts",
        "RZZ": "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts",
    }
    questions = {(r["org_code"], r["question_id"]): r for r in parsed.questions.iter_rows(named=True)}
    assert questions[("RXX", "q25c")]["pct"] == pytest.approx(61.0)
    assert questions[("RXX", "q26a")]["statistic"] == "pct_unfavourable"
    assert questions[("RYY", "q25c")]["pct"] is None
    scores = {(r["org_code"], r["survey_year"], r["measure_id"]): r for r in parsed.scores.iter_rows(named=True)}
    assert scores[("RXX", 2023, "PP1")]["score"] == 7.0 and scores[("RXX", 2023, "PP1")]["release_year"] == release
    assert scores[("RXX", 2024, "staff_engagement")]["base"] == 905
    assert scores[("RYY", 2024, "PP1")]["score"] is None


def test_fractions_above_one_in_a_2025_release_are_refused(tmp_path: Path) -> None:
    path = _benchmark(tmp_path / "b.xlsx", {"Acute&Acute Community Trusts": _acute_rows(61.0, 27.5)})
    with pytest.raises(InputDataError, match=r"sheet 'Acute&Acute Community Trusts', row 2, column 'J \(q25c_2024\)'"):
        parse_benchmark_workbook(path, 2025)


def test_a_sheet_of_an_unknown_group_is_refused(tmp_path: Path) -> None:
    path = _benchmark(tmp_path / "b.xlsx", {"Primary Care Networks": _acute_rows(0.6, 0.2)})
    with pytest.raises(InputDataError, match="sheet 'Primary Care Networks', row 2: unknown benchmarking group"):
        parse_benchmark_workbook(path, 2025)


def test_benchmark_only_year_gives_official_scores_of_that_release(tmp_path: Path) -> None:
    path = _benchmark(
        tmp_path / "Benchmark-report-Excel-data-for-2020-2024.xlsx",
        {"Acute&Acute Community Trusts": _acute_rows(61.0, 27.5)},
    )
    built = build_survey_year([source_file(path, "benchmark_workbook", "2024")], 2024)
    scores = built.tables["people_promise_scores"]
    assert set(scores["survey_year"]) == {2024} and set(scores["value_source"]) == {"benchmark"}
    assert scores.filter((pl.col("org_code") == "RXX") & (pl.col("measure_id") == "PP1"))["score"][0] == 7.2
    items = built.tables["staff_survey_items"]
    assert (
        items.filter((pl.col("org_code") == "RXX") & (pl.col("question_id") == "q26a"))["pct_unfavourable"][0] == 27.5
    )
    assert built.tables["survey_organisations"].height == 2
