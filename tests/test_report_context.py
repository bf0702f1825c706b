"""The published report's trust context, weak-area wording, trend caption, engagement agreement and periods,
checked against rows of the published file of the session's snapshot build (tests/conftest.py), read by hand."""

import html
import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SnapshotBuild

TRUST = "RJ1"  # Guy's and St Thomas': acute, in the extract's Oversight, DMA, KH03, ERIC and delayed-discharge rows


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> Path:
    return snapshot_build.published


@pytest.fixture(scope="module")
def con(published: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(published), read_only=True)


def page(published: Path, relative: str) -> str:
    return (published.parent / "report" / relative).read_text(encoding="utf-8")


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def section(source: str, element_id: str) -> str:
    start = source.index(f'id="{element_id}"')
    return source[start : source.index("</section>", start)]


def context_rows(source: str) -> dict[str, tuple[float, str, str, str]]:
    """label -> (value as published, value as shown, period, publisher) from the trust page's context tables."""
    pattern = r'<tr><td>([^<]+)</td><td data-value="([^"]+)">([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>'
    return {
        html.unescape(label): (float(value), html.unescape(shown), html.unescape(period), html.unescape(publisher))
        for label, value, shown, period, publisher in re.findall(pattern, section(source, "context-heading"))
    }


def test_trust_page_context_is_the_published_trust_context_rows(
    published: Path, con: duckdb.DuckDBPyConnection
) -> None:
    rows = context_rows(page(published, f"trusts/{TRUST}.html"))
    expected = {
        "Overall": ("dma", "dma_overall"),
        "General and acute bed occupancy": ("kh03_beds", "bed_occupancy"),
        "Estates maintenance backlog": ("eric", "estates_backlog_total"),
        "Overall segment (1 best to 4)": ("nof_trust_data", "nof_segment"),
        "Position in the acute trust league table": ("nof_league_table", "league_rank"),
    }
    for label, (dataset, measure) in expected.items():
        value, period, publisher = con.sql(
            "SELECT value, period, publisher FROM trust_context WHERE org_code = ? AND dataset = ? AND measure = ?",
            params=[TRUST, dataset, measure],
        ).fetchone()  # type: ignore[misc]
        assert rows[label][0] == pytest.approx(value), label
        assert rows[label][2:] == (period, publisher), label
    # bed occupancy shown as a percentage of the published fraction, which is occupied ÷ available beds
    occupied, available = (
        con.sql(
            "SELECT value FROM trust_context WHERE org_code = ? AND measure = ?", params=[TRUST, measure]
        ).fetchone()[0]  # type: ignore[index]
        for measure in ("beds_occupied", "beds_available")
    )
    assert rows["General and acute bed occupancy"][0] == pytest.approx(occupied / available, abs=5e-4)
    assert rows["General and acute bed occupancy"][1] == f"{rows['General and acute bed occupancy'][0]:.1%}"
    # the Oversight sentence is index_beside_oversight's row
    segment, league, period = con.sql(
        "SELECT nof_segment, league_rank, oversight_period FROM index_beside_oversight "
        "WHERE org_code = ? AND survey_year = 2024",
        params=[TRUST],
    ).fetchone()  # type: ignore[misc]
    oversight = text(section(page(published, f"trusts/{TRUST}.html"), "context-heading"))
    assert f"NHS Oversight Framework ({period}, NHS England): segment {segment} of 4" in oversight
    assert f"{league} in the acute trust league table" in oversight


def test_a_trust_without_context_says_so(published: Path, con: duckdb.DuckDBPyConnection) -> None:
    (code,) = con.sql(
        "SELECT min(org_code) FROM readiness_index r WHERE survey_year = 2024 AND NOT EXISTS "
        "(SELECT 1 FROM trust_context t WHERE t.org_code = r.org_code)"
    ).fetchone()  # type: ignore[misc]
    shown = text(section(page(published, f"trusts/{code}.html"), "context-heading"))
    assert context_rows(page(published, f"trusts/{code}.html")) == {}
    assert "No digital maturity figure is published for this trust." in shown
    assert "No patient flow figure is published for this trust." in shown


def test_trend_caption_lists_the_readiness_trend_indicator_sets(
    published: Path, con: duckdb.DuckDBPyConnection
) -> None:
    rows = con.sql(
        "SELECT survey_year, n_indicators FROM readiness_trend WHERE org_code = ? AND component = 'index' "
        "ORDER BY survey_year",
        params=[TRUST],
    ).fetchall()
    source = page(published, f"trusts/{TRUST}.html")
    note = text(re.search(r'<span class="chart-note">(.*?)</span>', source).group(1))  # type: ignore[union-attr]
    assert ", ".join(f"{year}: {n} indicators" for year, n in rows) in note
    spec = json.loads(html.unescape(re.search(r'id="spec-trends">(.*?)</script>', source, re.S).group(1)))  # type: ignore[union-attr]
    subtitle = " ".join(spec["title"]["subtitle"])
    assert f"NHS Staff Survey {rows[0][0]}-{rows[-1][0]} (NHS England)" in subtitle
    assert "NHS Staff Survey 2024 (" not in subtitle


def test_engagement_agreement_sentence_is_the_index_validity_row(
    published: Path, con: duckdb.DuckDBPyConnection
) -> None:
    estimate, lo, hi, n = con.sql(
        "SELECT estimate, ci_lo, ci_hi, n FROM index_validity WHERE validity_check = 'official_score_agreement' "
        "AND subject = 'readiness_index | Acute and Acute & Community Trusts' AND subject_b = 'staff_engagement' "
        "AND period = '2024'"
    ).fetchone()  # type: ignore[misc]
    expected = f"Spearman {estimate:.2f} (90% interval {lo:.2f} to {hi:.2f})"
    how_to_read = text(section(page(published, "index.html"), "how-to-read"))
    assert f"Among {n} Acute and Acute & Community Trusts" in how_to_read
    assert expected in how_to_read
    assert expected in text(page(published, "methodology.html"))
    (label,) = con.sql("SELECT label FROM performance_measures WHERE measure = 'ae_4hr_pct_all'").fetchone()  # type: ignore[misc]
    partial, p_lo, p_hi = con.sql(
        "SELECT estimate, ci_lo, ci_hi FROM index_validity WHERE validity_check = 'incremental_validity' "
        "AND statistic = 'partial_r_given_engagement' AND subject_b = 'ae_4hr_pct_all' "
        "AND subject = 'readiness_index | Acute and Acute & Community Trusts' AND period = '2024'"
    ).fetchone()  # type: ignore[misc]
    assert f"{label}: partial correlation {partial:.2f} (90% interval {p_lo:.2f} to {p_hi:.2f}" in text(
        page(published, "methodology.html")
    )


def test_weak_areas_follow_the_profile_and_say_why_not(published: Path, con: duckdb.DuckDBPyConnection) -> None:
    code, factor, status = con.sql(
        "SELECT min(org_code), arg_min(weakest_factor_1, org_code), arg_min(weakest_barrier_status, org_code) "
        "FROM readiness_index WHERE survey_year = 2024 AND weakest_barrier IS NULL AND weakest_factor_1 IS NOT NULL"
    ).fetchone()  # type: ignore[misc]
    (p_weakest,) = con.sql(
        "SELECT p_weakest FROM factor_scores WHERE org_code = ? AND survey_year = 2024 AND factor_id = ?",
        params=[code, factor],
    ).fetchone()  # type: ignore[misc]
    drivers = text(section(page(published, f"trusts/{code}.html"), "drivers-heading"))
    assert f"No weakest barrier is named: {status}." in drivers
    assert f"weakest factor in its own profile is {p_weakest * 100:.0f}%" in drivers
    assert "Barrier:" not in drivers
    sentence = text(re.search(r'class="board-sentence">(.*?)</p>', page(published, f"trusts/{code}.html")).group(1))  # type: ignore[union-attr]
    assert f"no barrier is named its weakest ({status})" in sentence


def test_uncovered_performance_periods_are_stated(published: Path, con: duckdb.DuckDBPyConnection) -> None:
    uncovered = con.sql(
        "SELECT dataset, held_period FROM index_periods WHERE survey_year = 2024 "
        "AND source = 'performance_annual' AND note LIKE 'not covered%' ORDER BY dataset"
    ).fetchall()
    assert [d for d, _ in uncovered] == ["cancer", "rtt"]  # the snapshot's RTT and cancer months miss 2024-25
    methodology = text(page(published, "methodology.html"))
    landing = text(section(page(published, "index.html"), "validity-heading"))
    trust = text(section(page(published, f"trusts/{TRUST}.html"), "context-heading"))
    for dataset, held in uncovered:
        assert (
            f"{dataset.upper()}: the index for survey year 2024 needs 2024-25 (April 2024 to March 2025); "
            f"the build holds {held}." in methodology
        )
        assert f"{dataset.upper()} needs 2024-25 (April 2024 to March 2025) but the build holds {held}" in trust
        assert (
            f"{dataset.upper()} (the index needs 2024-25 (April 2024 to March 2025); the build holds {held})" in landing
        )
