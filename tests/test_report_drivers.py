"""The trust page's drivers and 'learn from' lists on the real 2024 build (the session's snapshot build): RJ1,
Guy's and St Thomas', whose weakest factor 1 is checked against rows of `indicators` worked by hand."""

import csv
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from assets.publish.report import drivers
from assets.publish.report.advice import probability_words
from assets.publish.report.build import _area_names, _driver_context, _weak_areas
from assets.publish.report.inputs import read_report_inputs
from tests.conftest import SnapshotBuild


def test_median_interval_uses_the_order_statistics_by_hand() -> None:
    # n = 122: 61 ∓ 1.6449 × √122 / 2 = 61 ∓ 9.084 -> ranks floor(51.9) = 51 and ceil(62 + 9.084) = 72
    values = [float(v) for v in range(1, 123)]
    assert drivers.median_interval(values) == (51.0, 72.0)
    # n = 11: 5.5 ∓ 2.728 -> ranks 2 and ceil(9.23) = 10
    assert drivers.median_interval([float(v) for v in range(11)]) == (1.0, 9.0)


class Rows(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._in_drivers = False
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "drivers") in attrs:
            self._in_drivers = True
            self.tables.append([])
        elif self._in_drivers and tag == "tr":
            self.tables[-1].append([])
        elif self._in_drivers and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_drivers = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_rj1_leadership_drivers_match_the_indicator_rows_by_hand(snapshot_build: SnapshotBuild) -> None:
    published = snapshot_build.published
    con = duckdb.connect(str(published), read_only=True)
    try:
        weakest = con.sql(
            "SELECT weakest_factor_1, weakest_factor_2 FROM readiness_index "
            "WHERE org_code = 'RJ1' AND survey_year = 2024"
        ).fetchone()
    finally:
        con.close()
    # the relative profile (p_weakest) names factor 6 first and factor 1 second for RJ1
    assert weakest == (6, 1)
    inputs = read_report_inputs(published)
    context = _driver_context(inputs)
    assert context is not None
    areas = _rj1_weak_areas(inputs, context)
    leadership = areas[1]
    assert leadership["label"] == "Factor 1: Committed and respected leadership that engages staff"
    # Worked by hand from `indicators` (2024, Acute and Acute & Community Trusts, 122 trusts, the 11 indicators of
    # factor 1): RJ1's norm_score minus the group median norm_score is negative only for enthusiastic_about_job
    # (−0.4045; the others are +0.11 to +1.78). Its raw values: RJ1 7.101801, group median 7.164488 (mean of the
    # 61st and 62nd of 122 sorted values); the median's 90% interval is the 51st and 72nd values, 7.124770 and
    # 7.207548, so the difference is −0.062687 (7.101801 − 7.207548 = −0.105747 to 7.101801 − 7.124770 = −0.022969)
    (only,) = leadership["drivers"]
    assert only["indicator_id"] == "enthusiastic_about_job"
    assert only["wording"] == "I am enthusiastic about my job."
    assert only["trust_value"] == pytest.approx(7.101801, abs=1e-6)
    assert only["group_median"] == pytest.approx(7.164488, abs=1e-6)
    assert only["difference"] == pytest.approx(-0.062687, abs=1e-6)
    assert (only["difference_lo"], only["difference_hi"]) == (
        pytest.approx(-0.105747, abs=1e-6),
        pytest.approx(-0.022969, abs=1e-6),
    )
    assert only["score_gap"] == pytest.approx(-0.4045, abs=1e-4)
    # factor_scores: RJ1 factor 1 is 0.401 (0.275 to 0.507); 29 acute trusts have score_lo above 0.507, the
    # highest lower ends RFF 1.838, RHW 1.548, RJC 1.359
    assert [p["org_code"] for p in leadership["peers"]] == ["RFF", "RHW", "RJC"]
    # and the published page shows the same row, rounded
    page = (published.parent / "report" / "trusts" / "RJ1.html").read_text(encoding="utf-8")
    assert Rows(page).tables[1] == [  # tables[0] is factor 6, the first weak area
        [],
        ["I am enthusiastic about my job.", "7.10", "7.16", "-0.06 (-0.11 to -0.02)"],
    ]
    assert "Barnsley Hospital NHS Foundation Trust" in page


def test_no_indicator_rows_means_the_page_says_drivers_are_unavailable(tmp_path: Path) -> None:
    from assets.publish.report.build import build_report
    from tests.test_report_site import report_inputs

    build_report(report_inputs(), tmp_path / "report")
    page = (tmp_path / "report" / "trusts" / "ZA1.html").read_text(encoding="utf-8")
    assert "The indicator rows were not in this report's inputs" in page


def test_an_administrative_driver_carries_the_unit_its_published_table_gives(snapshot_build: SnapshotBuild) -> None:
    published = snapshot_build.published
    inputs = read_report_inputs(published)
    context = _driver_context(inputs)
    assert context is not None
    resources = _rj1_weak_areas(inputs, context)[0]  # factor 6, RJ1's weakest
    assert resources["label"] == "Factor 6: Resources and support for change"
    by_id = {d["indicator_id"]: d for d in resources["drivers"]}
    # data/reference/trust_context_derived.csv, row estates_backlog_per_bed: unit "£ thousand per bed"
    with (Path(__file__).parents[1] / "data" / "reference" / "trust_context_derived.csv").open(encoding="utf-8") as f:
        (derived,) = [r for r in csv.DictReader(f) if r["measure"] == "estates_backlog_per_bed"]
    assert by_id["estates_backlog_per_bed"]["unit"] == derived["unit"] == "£ thousand per bed"
    # survey questions have none: the note under the table gives their scales
    assert all(d["unit"] is None for d in resources["drivers"] if d["value_type"] != "administrative")
    page = (published.parent / "report" / "trusts" / "RJ1.html").read_text(encoding="utf-8")
    (estates,) = [r for r in Rows(page).tables[0] if r and r[0].startswith("Estates backlog")]
    assert estates[0] == "Estates backlog maintenance per general and acute bed (£ thousand per bed)"


def test_the_second_weakest_factor_shows_its_probability_of_being_among_the_two_weakest(
    snapshot_build: SnapshotBuild,
) -> None:
    published = snapshot_build.published
    con = duckdb.connect(str(published), read_only=True)
    try:
        p_weakest, p_two = con.sql(
            "SELECT p_weakest, p_two_weakest FROM factor_scores WHERE org_code = 'RJ1' AND survey_year = 2024 "
            "AND factor_id = 1"
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    # RJ1's weakest_factor_2 is factor 1: rarely the single lowest, but most often among the two lowest
    assert p_weakest < 0.5 <= p_two
    page = (published.parent / "report" / "trusts" / "RJ1.html").read_text(encoding="utf-8")
    assert (
        f"The probability that this is one of the trust's two weakest factors in its own profile is "
        f"{p_two * 100:.0f}% ({probability_words(p_two)})." in page
    )
    assert f"is the trust's weakest factor in its own profile is {p_weakest * 100:.0f}%" not in page
    # a build without p_two_weakest gives p_weakest and says what it is the probability of
    inputs = read_report_inputs(published)
    inputs = replace(inputs, factor_scores=inputs.factor_scores.drop("p_two_weakest"))
    context = _driver_context(inputs)
    assert context is not None
    second = _rj1_weak_areas(inputs, context)[1]
    assert second["probability"] == pytest.approx(p_weakest)
    assert (second["among_two"], second["probability_of"]) == (False, "single weakest factor")
    assert "named here for being among the two weakest" in second["probability_note"]


def _rj1_weak_areas(inputs, context) -> list[dict]:
    """RJ1's 2024 weak areas as its trust page lists them."""
    row = inputs.readiness_index.filter(
        (inputs.readiness_index["org_code"] == "RJ1") & (inputs.readiness_index["survey_year"] == 2024)
    ).row(0, named=True)
    return _weak_areas(inputs, row, _area_names(inputs), context)
