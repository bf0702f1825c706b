"""The real report in headless Chromium: an axe-core audit (axe-playwright-python bundles axe.min.js, so nothing is
fetched) of the landing page, one group page and one trust page with no serious or critical violation; screenshots
at 1300, 768 and 390 px wide that are not blank; keyboard search that ignores case, punctuation and apostrophes."""

import base64
from pathlib import Path

import pytest

from tests.test_report_site import SCREENSHOTS, chromium

WIDTHS = (1300, 768, 390)
PAGES = ("index.html", "groups/ambulance-trusts.html", "trusts/RJ1.html")


@pytest.fixture(scope="module")
def report(snapshot_build: object) -> Path:
    return snapshot_build.published.parent / "report"  # type: ignore[attr-defined]


def _open(browser: object, path: Path, width: int) -> object:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_function(
        "[...document.querySelectorAll('[data-chart]')].every(e => e.dataset.rendered || e.dataset.error)",
        timeout=30_000,
    )
    return page


# decodes the PNG in the browser (no imaging library needed) and counts its distinct colours
COLOURS = """async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4 * 37) { seen.add(pixels[i] + "," + pixels[i + 1] + "," + pixels[i + 2]); }
  return seen.size;
}"""


def _colours(page: object, png: bytes) -> int:
    """Distinct colours of a screenshot: a blank (white or one-colour) page has one or two."""
    return page.evaluate(COLOURS, base64.b64encode(png).decode())  # type: ignore[attr-defined]


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation_and_pages_render_at_three_widths(report: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe  # a dev dependency: a missing one fails the test

    axe = Axe()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        for relative in PAGES:
            page = _open(browser, report / relative, WIDTHS[0])
            assert not page.query_selector_all("[data-error]"), f"{relative}: a chart failed"  # type: ignore[attr-defined]
            results = axe.run(page).response
            severe = [
                f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
                for v in results["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
            assert severe == [], f"{relative}: {severe}"
            # Vega's own "Vega visualization" label is replaced by the page's text alternative
            labels = page.eval_on_selector_all(  # type: ignore[attr-defined]
                "[data-chart]",
                "cs => cs.map(c => [c.getAttribute('role'), c.getAttribute('aria-label'),"
                " c.querySelector('svg').getAttribute('aria-label')])",
            )
            assert labels, f"{relative} has no chart"
            for role, label, svg_label in labels:
                assert role in {"img", "group"} and len(label) > 20 and svg_label == label, (relative, label, svg_label)
            headings = page.eval_on_selector_all("h1, h2", "hs => hs.map(h => h.tagName)")  # type: ignore[attr-defined]
            assert headings.count("H1") == 1 and "H2" in headings
            page.close()  # type: ignore[attr-defined]
            for width in WIDTHS:
                page = _open(browser, report / relative, width)
                png = page.screenshot(full_page=False)  # type: ignore[attr-defined]
                (SCREENSHOTS / f"a11y-{Path(relative).stem}-{width}.png").write_bytes(png)
                assert _colours(page, png) > 20, f"{relative} at {width} px is blank"
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")  # type: ignore[attr-defined]
                assert overflow <= 1, f"{relative} at {width} px scrolls sideways by {overflow} px"
                page.close()  # type: ignore[attr-defined]


@pytest.mark.browser
def test_keyboard_search_ignores_apostrophes_and_says_when_nothing_matches(report: Path) -> None:
    with chromium() as browser:
        page = _open(browser, report / "index.html", 1300)
        search = page.locator("#search")  # type: ignore[attr-defined]
        search.fill("guys")
        first = page.locator("#search-results a").first  # type: ignore[attr-defined]
        assert first.text_content().startswith("Guy's and St Thomas' NHS Foundation Trust (RJ1)")
        search.fill("zzqx no such trust")
        assert page.locator("#search-status").text_content() == "No trust or group matches “zzqx no such trust”"  # type: ignore[attr-defined]
        search.fill("ST. THOMAS")
        search.press("ArrowDown")
        assert page.locator("#search-results a[aria-current='true']").count() == 1  # type: ignore[attr-defined]
        search.press("Enter")
        page.wait_for_url("**/trusts/RJ1.html")  # type: ignore[attr-defined]
        # the trust table sorts by rank when its heading button is pressed
        page.goto((report / "index.html").as_uri())  # type: ignore[attr-defined]
        page.locator("#trust-group").select_option("Ambulance Trusts")  # type: ignore[attr-defined]
        assert page.locator("[data-count-for='trust-table']").text_content() == "11 of 210 trusts shown"  # type: ignore[attr-defined]
        page.locator("#trust-table th button", has_text="Rank in group").click()  # type: ignore[attr-defined]
        visible = page.eval_on_selector_all(  # type: ignore[attr-defined]
            "#trust-table tbody tr:not([hidden]) td:nth-child(5)", "cs => cs.map(c => Number(c.dataset.sort))"
        )
        assert visible == list(range(1, 12))
