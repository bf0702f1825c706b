"""2025 official People Promise and theme scores from the benchmark workbook via the trust context extract."""

import polars as pl
import pytest

from assets.ingest.staff_survey import survey_year_files
from assets.staged.staff_survey.build import build_survey_year
from pipeline.resources import SourceResource
from pipeline.settings import SNAPSHOT_DIR


@pytest.fixture(scope="module")
def year_2025():
    files = survey_year_files(SourceResource(snapshot_dir=str(SNAPSHOT_DIR)), "2025")
    return files, build_survey_year(files, 2025)


def test_2025_comes_only_from_the_extract_and_says_so(year_2025) -> None:
    files, built = year_2025
    assert [(f.product, f.official_name) for f in files] == [("benchmark_via_extract", "trust_profiles.csv")]
    scores = built.tables["people_promise_scores"]
    assert set(scores["value_source"]) == {"benchmark_via_extract"} and set(scores["release_year"]) == {2025}
    assert set(scores["source_file"]) == {
        "NSS-Benchmark-report-excel-data-for-2021-2025-v2.xlsx via trust_profiles.csv"
    }
    assert scores["base"].is_null().all()  # the extract carries no bases
    # no questions and no organisations: the year has scores only, so no index is built for it
    assert built.tables["staff_survey_items"].is_empty() and built.tables["survey_organisations"].is_empty()
    # PROVENANCE.md: staff survey 2025 for 149 trusts; 13 measures (11 People Promise, 2 themes)
    assert scores["org_code"].n_unique() == 149 and scores["measure_id"].n_unique() == 13


def test_2025_scores_are_the_real_values(year_2025) -> None:
    scores = year_2025[1].tables["people_promise_scores"]

    def score(org: str, measure: str) -> float:
        return scores.filter((pl.col("org_code") == org) & (pl.col("measure_id") == measure))["score"].item()

    # trust_profiles.csv line 163 (RTH): pp1_compassionate_inclusive 7.343171066969595, theme_engagement 6.8514846…
    assert score("RTH", "PP1") == 7.343171066969595
    assert score("RTH", "staff_engagement") == pytest.approx(6.851484671517542)
    # line 57 (R0A): theme_engagement 6.72853207753157
    assert score("R0A", "staff_engagement") == pytest.approx(6.72853207753157)


def test_an_official_file_of_the_year_is_never_mixed_with_the_stand_in() -> None:
    files = survey_year_files(SourceResource(snapshot_dir=str(SNAPSHOT_DIR)), "2024")
    assert "benchmark_via_extract" not in {f.product for f in files} and files
