"""The offline report built from the synthetic frames of tests/helpers/report_frames.py: its pages, links,
search index, CSV downloads and atomic replacement, and (headless Chromium) that it draws from disk offline."""

import csv
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.publish.charts.wording import trust_names
from assets.publish.report.assets import report_metadata
from assets.publish.report.build import ReportInputs, ReportSummary, build_report
from assets.publish.report.site_check import report_problems
from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild
from tests.helpers import report_frames as rf

SCREENSHOTS = PROJECT_ROOT / "tests" / "output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# the flags that work in this sandbox and keep Chromium from phoning home
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DATA_NOTE = "Synthetic test frames: every number on these pages is made up, none is NHS data."


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> Path:
    """The published file of the session's one snapshot build (tests/conftest.py); read it, never write it."""
    return snapshot_build.published


def report_inputs(**changes: object) -> ReportInputs:
    summary, points = rf.index_validity()
    inputs = dict(
        survey_year=rf.YEAR,
        readiness_index=rf.readiness_index(),
        factor_scores=rf.factor_scores(),
        barrier_scores=rf.barrier_scores(),
        names=trust_names(rf.organisations(), rf.survey_organisations(), rf.YEAR),
        built_on=date(2026, 11, 22),
        staff_survey_items=rf.staff_survey_items(),
        spc_monthly=rf.spc_monthly(),
        performance_measures=rf.performance_measures(),
        validity_summary=summary,
        validity_points=points,
        data_note=DATA_NOTE,
    )
    inputs.update(changes)
    return ReportInputs(**inputs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReportSummary]:
    target = tmp_path_factory.mktemp("published") / "report"
    return target, build_report(report_inputs(), target)


class Page(HTMLParser):
    """Links, script sources and chart containers of one page."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.links: list[str] = []
        self.scripts: list[str] = []
        self.charts: list[str] = []
        self.downloads: list[str] = []
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])  # type: ignore[arg-type]
            if "download" in found:
                self.downloads.append(found["href"])  # type: ignore[arg-type]
        if tag in {"script", "link"} and (found.get("src") or found.get("href")):
            self.scripts.append(found.get("src") or found["href"])  # type: ignore[arg-type]
        if found.get("data-chart"):
            self.charts.append(found["data-chart"])  # type: ignore[arg-type]

    def resolve(self, link: str) -> Path:
        return (self.path.parent / link.split("#")[0]).resolve()


def pages(report: Path) -> Iterator[Page]:
    for path in sorted(report.rglob("*.html")):
        yield Page(path)


def search_index(report: Path) -> list[dict[str, str]]:
    text = (report / "assets" / "search-index.js").read_text(encoding="utf-8")
    return json.loads(re.fullmatch(r"window\.REPORT_SEARCH_INDEX = (.*);\n", text, re.S).group(1))  # type: ignore[union-attr]


def test_pages_for_the_index_every_group_and_every_trust(built: tuple[Path, ReportSummary]) -> None:
    report, summary = built
    names = sorted(str(p.relative_to(report)) for p in report.rglob("*.html"))
    assert names == [
        "groups/ambulance-trusts.html",
        "groups/community-trusts.html",
        "index.html",
        "methodology.html",
        *[f"trusts/{code}.html" for code in ("ZA1", "ZA2", "ZA3", "ZA4", "ZC1", "ZC2", "ZC3")],
    ]
    assert (summary.trusts, summary.groups, summary.pages, summary.skipped_charts) == (7, 2, 11, [])
    # 1 validity + 3 per group + profile and trends per trust + SPC for ZA1, the only trust with SPC rows
    assert summary.charts == 1 + 3 * 2 + 2 * 7 + 1
    assert summary.bytes == sum(p.stat().st_size for p in report.rglob("*") if p.is_file())


def test_every_link_resolves_and_nothing_comes_from_the_network(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    for page in pages(report):
        for link in page.links + page.scripts:
            assert not re.match(r"[a-z]+://", link), f"{page.path.name} links outside the report: {link}"
            assert page.resolve(link).is_file(), f"{page.path.relative_to(report)}: broken link {link}"
        assert page.scripts[-3:] == [
            f"{'../' if page.path.parent != report else ''}assets/{name}"
            for name in ("vega.js", "search-index.js", "report.js")
        ]
        assert page.path.read_text().count(f'<p class="data-note">{DATA_NOTE}</p>') == 1
    vega = (report / "assets" / "vega.js").read_text()
    assert "window.vegaEmbed" in vega and len(vega) > 500_000, "one local copy of the Vega libraries"
    assert not any(len(p.read_bytes()) > 400_000 for p in report.rglob("*.html")), "no page carries its own bundle"


def test_search_index_lists_every_trust_and_group(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    entries = search_index(report)
    trusts = {e["code"]: e for e in entries if e["kind"] == "trust"}
    assert sorted(trusts) == ["ZA1", "ZA2", "ZA3", "ZA4", "ZC1", "ZC2", "ZC3"]
    assert trusts["ZC2"] == {
        "kind": "trust",
        "code": "ZC2",
        "name": "Synthetic Community Trust B",
        "group": "Community Trusts",
        "url": "trusts/ZC2.html",
    }
    assert sorted(e["name"] for e in entries if e["kind"] == "group") == ["Ambulance Trusts", "Community Trusts"]
    assert all((report / e["url"]).is_file() for e in entries)


def test_each_chart_has_its_data_as_csv(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    group = Page(report / "groups" / "ambulance-trusts.html")
    assert group.charts == ["league", "heatmap", "funnel"]
    csvs = [link for link in group.downloads if link.endswith(".csv")]
    # images are saved from the chart's own menu in the browser (vega-embed export), not built for every chart
    assert len(csvs) == 3 and not [link for link in group.downloads if link.endswith((".png", ".svg"))]
    with group.resolve(csvs[0]).open() as handle:
        league_rows = {row["org_code"]: row for row in csv.DictReader(handle)}
    assert league_rows["ZA1"]["index_score"] == "0.62" and league_rows["ZA4"]["ranked"] == "false"
    funnel = pl.read_csv(group.resolve(csvs[2]))
    # the overdispersion-adjusted limits hold all four (test_report_charts.py works them by hand)
    assert funnel.filter(pl.col("outlier")).is_empty() and funnel["tau2"][0] > 0

    assert Page(report / "trusts" / "ZA1.html").charts == ["profile", "trends", "spc"]
    assert Page(report / "trusts" / "ZC1.html").charts == ["profile", "trends"]
    index = Page(report / "index.html")
    assert index.charts == ["validity"]
    tables = sorted(Path(link).name for link in index.downloads if link.startswith("data/"))
    assert tables == [
        "barrier_scores.csv",
        "factor_scores.csv",
        "index_validity.csv",
        "readiness_index.csv",
        "spc_monthly.csv",
        "validity.csv",
    ]


def test_embedded_specs_carry_their_data(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    html = (report / "trusts" / "ZA2.html").read_text()
    spec = json.loads(
        re.search(r'<script type="application/json" id="spec-profile">(.*?)</script>', html, re.S).group(1)
    )  # type: ignore[union-attr]
    rows = [row for data in spec["datasets"].values() for row in data]
    assert {row["label"] for row in rows if not row["measured"]} == {
        "5 Data and analytics that measure and communicate impact (not measured)"
    }


def test_trust_page_states_the_board_sentence(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    html = (report / "trusts" / "ZC1.html").read_text()
    sentence = re.search(r'<p class="board-sentence">(.*?)</p>', html, re.S).group(1)  # type: ignore[union-attr]
    assert sentence == (
        "In the 2024 NHS Staff Survey, Synthetic Community Trust A scores 0.30 on the change-readiness index "
        "(90% interval 0.05 to 0.52), ranking 1st of 3 Community Trusts (somewhere between 1st and 2nd with 90% "
        "confidence); its weakest factors are “An enabling environment which supports and drives change” and "
        "“Resources and support for change”, and its weakest barrier is motivation to change, so the suggested "
        "national support is Type 3 “People-focused” (work with staff and leaders: engagement, shared purpose, "
        "training and development)."
    )
    method = (report / "methodology.html").read_text()
    for topic in ("Coverage", "Sampling error", "Survey year and financial year", "What the survey can and cannot say"):
        assert f"<h3>{topic}</h3>" in method
    assert "there is no public measure, so treat this factor with most caution" in method


def test_a_failed_build_keeps_the_previous_report(built: tuple[Path, ReportSummary], tmp_path: Path) -> None:
    target = tmp_path / "report"
    build_report(report_inputs(), target)
    before = (target / "index.html").read_text()
    broken = rf.barrier_scores().drop("score_lo")  # only the trust pages, written last, read it
    with pytest.raises(ValueError, match="barrier_scores lacks column"):
        build_report(report_inputs(barrier_scores=broken), target)
    assert (target / "index.html").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["report"], "the half-built folder was removed"
    rebuilt = build_report(report_inputs(data_note="A second build."), target)
    assert "A second build." in (target / "index.html").read_text() and rebuilt.pages == 11


def _check_page(
    browser: object,
    page_path: Path,
    charts: list[str],
    search: tuple[str, str] = ("zc2", "trusts/ZC2.html"),
    screenshot_prefix: str = "report",
) -> None:
    """Open one page from disk, wait for every chart, and check marks, console and network; on index.html, typing
    search[0] into the search box lists search[1] first."""
    page = browser.new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in {"error", "warning"} else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_path.as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered || e.dataset.error)",
        timeout=30_000,
    )
    drawn = page.eval_on_selector_all(
        "[data-chart]",
        "els => els.map(e => [e.dataset.chart, e.dataset.error || null, "
        "e.querySelectorAll('svg .role-mark > *').length])",
    )
    assert [name for name, _, _ in drawn] == charts
    for name, error, marks in drawn:
        assert error is None and marks > 0, f"{page_path.name}: chart {name} drew {marks} marks ({error})"
    if page_path.name == "index.html":
        page.fill("#search", search[0])
        first = page.wait_for_selector("#search-results a")
        assert first.get_attribute("href") == search[1]
    page.screenshot(path=str(SCREENSHOTS / f"{screenshot_prefix}-{page_path.stem}.png"), full_page=True)
    assert problems == [], f"{page_path.name}: console errors or warnings {problems}"
    assert all(url.startswith("file://") for url in requests), f"network requests: {requests}"
    assert any(url.endswith("/assets/vega.js") for url in requests)


@contextmanager
def chromium() -> Iterator[object]:
    """Playwright drives Debian's Chromium (its own browser download does not work offline); `offline=True`
    makes any network request fail, and every request is recorded anyway."""
    import playwright.sync_api as playwright  # a dev dependency: its absence fails the test, never skips it

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is absent: `apt-get install -y chromium` (.ci/run installs it or fails)", pytrace=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver, tempfile.TemporaryDirectory() as profile:
        browser = driver.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            offline=True,
            viewport={"width": 1300, "height": 900},
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.browser
def test_chromium_draws_every_chart_from_disk_with_no_network(built: tuple[Path, ReportSummary]) -> None:
    report, _ = built
    with chromium() as browser:
        _check_page(browser, report / "index.html", ["validity"])
        _check_page(browser, report / "trusts" / "ZA1.html", ["profile", "trends", "spc"])


@pytest.mark.browser
def test_chromium_draws_the_report_the_pipeline_published(published: Path) -> None:
    """The real report of the end-to-end build (tests/test_end_to_end.py): its index and the page of RBN, which
    has monthly A&E, RTT, cancer and sickness absence series."""
    report = published.parent / "report"
    assert json.loads((report / "report.json").read_text())["survey_year"] == 2024
    with chromium() as browser:
        real = {"screenshot_prefix": "published-report"}
        _check_page(browser, report / "index.html", ["validity"], search=("rbn", "trusts/RBN.html"), **real)
        _check_page(browser, report / "trusts" / "RBN.html", ["profile", "trends", "spc"], **real)


def test_site_check_finds_missing_pages_and_network_references(
    built: tuple[Path, ReportSummary], tmp_path: Path
) -> None:
    """The check behind the `published_report_complete` asset check, on a copy of the synthetic report."""
    report = tmp_path / "report"
    shutil.copytree(built[0], report)
    groups, ranked = ["Ambulance Trusts", "Community Trusts"], ["ZA1", "ZA2", "ZA3", "ZC1", "ZC2", "ZC3"]
    assert report_problems(report, groups, ranked) == []
    # the embedded specs name their schema by URL and the Vega bundle holds URLs in strings: neither is fetched
    assert "https://vega.github.io/schema" in (report / "index.html").read_text()
    (report / "trusts" / "ZC3.html").unlink()
    page = report / "groups" / "community-trusts.html"
    page.write_text(
        page.read_text().replace("</head>", '<script src="https://cdn.example.org/vega.js"></script></head>')
    )
    (report / "assets" / "report.css").write_text("body { background: url(//example.org/x.png) }")
    assert report_problems(report, [*groups, "Ambulance Trusts Elsewhere"], ranked) == [
        "no page for benchmarking group 'Ambulance Trusts Elsewhere'",
        "no page for ranked trust ZC3",
        "groups/community-trusts.html references the network: <script src='https://cdn.example.org/vega.js'>",
        "assets/report.css imports or loads something over the network",
    ]
    shutil.rmtree(report)
    assert report_problems(report, groups, ranked) == [f"{report}/index.html is missing"]


def test_the_pipeline_report_covers_every_2024_trust_and_shows_in_dagster(published: Path) -> None:
    """The report `nhs-readiness run` built (tests/conftest.py snapshot_build) and what the Dagster UI shows of it."""
    report = published.parent / "report"
    metadata = report_metadata(report)
    # NSS24 organisational workbook: 210 trusts in the five trust benchmarking groups, all ranked in 2024
    assert (metadata["survey_year"], metadata["trusts"], metadata["ranked_trusts"]) == (2024, 210, 210)
    assert (metadata["benchmarking_groups"], metadata["pages"]) == (5, 2 + 5 + 210)  # index and methodology pages
    assert metadata["report"].value == (report / "index.html").as_uri()
    assert metadata["chart"].value.startswith("![Index against independent outcomes](data:image/png;base64,")
    con = duckdb.connect(str(published), read_only=True)
    groups = [g for (g,) in con.sql("SELECT DISTINCT benchmarking_group FROM readiness_index").fetchall()]
    ranked = [c for (c,) in con.sql("SELECT org_code FROM readiness_index WHERE survey_year = 2024").fetchall()]
    assert report_problems(report, groups, ranked) == []
    # the report shows the published numbers: RBN's index in its search entry and in its board sentence
    (score,) = con.sql(
        "SELECT index_score FROM readiness_index WHERE org_code = 'RBN' AND survey_year = 2024"
    ).fetchone()  # type: ignore[misc]
    entry = next(e for e in search_index(report) if e["code"] == "RBN")
    assert entry["name"] == "Mersey and West Lancashire Teaching Hospitals NHS Trust"
    assert f"scores {score:.2f} on the change-readiness index" in (report / "trusts" / "RBN.html").read_text()
