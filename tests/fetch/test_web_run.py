"""`nhs-readiness run --source web` end to end against the loopback publisher, and runs that must fail safely.

The server returns the real 2026 ODS etr export at the official API path and a detailed-spreadsheets zip built from
the real NSS24 workbooks, listed in a synthetic survey catalogue JSON; survey years it lacks answer 404 and are skipped.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.cli import main
from tests.fetch.conftest import (
    NSS24_PATH,
    NSS24_ZIP,
    SURVEY_CATALOGUE_JSON,
    cache_state,
    survey_catalogue_json,
    tree_bytes,
)
from tests.helpers.publisher_server import NOT_FOUND_PAGE, PublisherServer, Reply, running_publisher

ETR = "https://www.odsdatasearchandexport.nhs.uk/api/getReport?report=etr"
ETR_2026_SHA = "ee157f251284605a7390af3d2a412419e4758b2fda63441773923616c027a911"  # data/snapshot/manifest.csv
FAILURES = ("html-instead-of-csv", "persistent-500", "truncated-body")


def failing_reply(failure: str, etr: bytes) -> Reply:
    return {
        "html-instead-of-csv": Reply(NOT_FOUND_PAGE, 200, "text/html; charset=utf-8"),
        "persistent-500": Reply(b"Internal Server Error", 500, "text/plain"),
        "truncated-body": Reply(etr, 200, "text/csv", truncate_to=len(etr) // 2),
    }[failure]


def _use(monkeypatch: pytest.MonkeyPatch, root: Path, server: PublisherServer, raw: str = "raw") -> None:
    monkeypatch.setenv("NHS_READINESS_RAW_DIR", str(root / raw))
    monkeypatch.setenv("NHS_READINESS_WAREHOUSE", str(root / "work" / "warehouse.duckdb"))
    monkeypatch.setenv("NHS_READINESS_PUBLISHED_DIR", str(root / "published"))
    options = {"url_rewrites": server.rewrites(), "retries": 1, "backoff_seconds": 0.01, "timeout_seconds": 5}
    options |= {"step_retries": 1, "step_retry_seconds": 0.01}
    monkeypatch.setenv("NHS_READINESS_SOURCE_OPTIONS", json.dumps(options))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture(scope="module")
def first_web_build(
    real_data: Path, nss24_detailed_zip: bytes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PublisherServer, Path]]:
    """One successful web run: the cache holds etr.csv and the NSS24 workbook, and the published file exists."""
    root = tmp_path_factory.mktemp("web-run")
    with running_publisher() as server, pytest.MonkeyPatch.context() as monkeypatch:
        server.publish(ETR, Reply((real_data / "ods" / "2026" / "etr.csv").read_bytes(), content_type="text/csv"))
        server.publish(SURVEY_CATALOGUE_JSON, survey_catalogue_json(NSS24_PATH))
        server.publish(NSS24_ZIP, Reply(nss24_detailed_zip, content_type="application/zip"))
        _use(monkeypatch, root, server)
        assert main(["run", "--source", "web"]) == 0
        yield server, root


def test_web_run_publishes_the_downloaded_file_with_its_provenance(first_web_build) -> None:
    _, root = first_web_build
    con = duckdb.connect(str(root / "published" / "nhs_change_readiness.duckdb"), read_only=True)
    try:
        # the real 2026 etr export has 274 rows; RBN is open in the North West (row read by hand)
        assert con.sql("SELECT count(*) FROM ods_trusts").fetchall() == [(274,)]
        assert con.sql("SELECT region_name FROM ods_trusts WHERE org_code = 'RBN'").fetchall() == [("North West",)]
        assert con.sql(
            "SELECT source_mode, url, official_name, sha256, origin FROM build_info WHERE dataset = 'ods'"
        ).fetchall() == [("web", ETR, "etr.csv", ETR_2026_SHA, "web")]
        # NSS24 from the downloaded zip: 263 organisations (data-sources.md §3.4), full question coverage
        assert con.sql("SELECT count(*) FROM survey_organisations WHERE survey_year = 2024").fetchall() == [(263,)]
        assert con.sql("SELECT DISTINCT survey_year FROM staff_survey_items").fetchall() == [(2024,)]
    finally:
        con.close()
    cached = root / "raw" / "ods" / "etr.csv"
    assert json.loads(Path(f"{cached}.source.json").read_text())["sha256"] == ETR_2026_SHA


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_download_leaves_cache_and_published_file_byte_identical(
    first_web_build, failure: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server, root = first_web_build
    _use(monkeypatch, root, server)
    published = root / "published" / "nhs_change_readiness.duckdb"
    before = (published.read_bytes(), cache_state(root / "raw"))
    server.publish(ETR, failing_reply(failure, (root / "raw" / "ods" / "etr.csv").read_bytes()))
    status = main(["run", "--source", "web"])
    err = capsys.readouterr().err
    server.publish(ETR, Reply((root / "raw" / "ods" / "etr.csv").read_bytes(), content_type="text/csv"))

    assert (published.read_bytes(), cache_state(root / "raw")) == before
    if failure == "html-instead-of-csv":  # the publisher answered with the wrong thing: stop, say what
        assert status == 1, err
        problem = "the server sent an HTML page (Content-Type text/html) instead of a CSV file"
        assert "\nFAILED in " in err and f": DownloadError: download of {ETR} failed: {problem}\n" in err
        assert "the download cache was left as it was" in err
    else:  # the publisher could not deliver: the verified cached copy is used, with its age
        assert status == 0
        assert f"download of {ETR} failed:" in err and "using cached copy from" in err and "0 days old" in err


@pytest.mark.parametrize("failure", FAILURES)
def test_a_first_web_run_that_cannot_download_fails_and_keeps_the_published_file(
    first_web_build, failure: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server, root = first_web_build
    _use(monkeypatch, root, server, raw=f"empty-cache-{failure}")
    published = root / "published" / "nhs_change_readiness.duckdb"
    before = published.read_bytes()
    server.publish(ETR, failing_reply(failure, (root / "raw" / "ods" / "etr.csv").read_bytes()))
    status = main(["run", "--source", "web"])
    err = capsys.readouterr().err
    server.publish(ETR, Reply((root / "raw" / "ods" / "etr.csv").read_bytes(), content_type="text/csv"))

    assert status == 1
    assert "\nFAILED in " in err and f": DownloadError: download of {ETR} failed: " in err
    assert published.read_bytes() == before
    cached = tree_bytes(root / f"empty-cache-{failure}")
    # nothing partial was left behind: no ODS entry, no temporary file; other datasets' verified files may stay
    assert [name for name in cached if name.startswith("ods/") or "tmp" in Path(name).name] == []
