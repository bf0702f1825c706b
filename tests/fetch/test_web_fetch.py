"""web source mode against a loopback stand-in for the publishers, serving the real files under official paths.

Landing pages served here are SYNTHETIC (each says so in its HTML): they only carry links, to check
discovery. Every data file served is a real public file from the real-data folder, byte for byte.
"""

import io
import json
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import SourceUnavailableError
from pipeline.fetch import DownloadError, http, web_fetch, web_periods
from pipeline.fetch.discovery import clear_memo
from pipeline.resources import SourceResource
from pipeline.sources import sha256_of
from tests.fetch.conftest import tree_bytes
from tests.helpers.publisher_server import NOT_FOUND_PAGE, PublisherServer, Reply

UPLOADS = "https://www.england.nhs.uk/statistics/wp-content/uploads/sites/2/"
AE_MAY = UPLOADS + "2024/06/Monthly-AE-May-2024.csv"  # known URL (ae-attendances/PROVENANCE.md)
AE_PAGE = "https://www.england.nhs.uk/statistics/statistical-work-areas/ae-waiting-times-and-activity/"
AE_YEAR_PAGE = AE_PAGE + "ae-attendances-and-emergency-admissions-2024-25/"
SICKNESS_APRIL = "https://files.digital.nhs.uk/77/0A5C5E/NHS%20Sickness%20Absence%20rates%20CSV%2C%20April%202024.csv"
SICKNESS_JUNE = "https://files.digital.nhs.uk/06/003F05/NHS%20Sickness%20Absence%20rates%20CSV%2C%20June%202024.csv"
ETR = "https://www.odsdatasearchandexport.nhs.uk/api/getReport?report=etr"
BENCHMARK_2024 = (
    "https://www.nhsstaffsurveys.com/static/4393b3f78f0c9e6c06906310ee7ff6c3/"
    "Benchmark-report-Excel-data-for-2020-2024.xlsx"
)
CANCER_PAGE = "https://www.england.nhs.uk/statistics/statistical-work-areas/cancer-waiting-times/"
# SHA-256 of the real ODS exports (data/snapshot/manifest.csv)
ETR_2025_SHA = "e1c6bf2e73bc1d4fd790511d88fdcf0f49bc799adf0b1c2c9561497c911580bd"
ETR_2026_SHA = "ee157f251284605a7390af3d2a412419e4758b2fda63441773923616c027a911"

MakeSource = Callable[..., SourceResource]


def synthetic_page(*links: str) -> Reply:
    anchors = "\n".join(f'<li><a href="{link}">{link.rsplit("/", 1)[-1]}</a></li>' for link in links)
    html = f"<!DOCTYPE html><html><body><!-- SYNTHETIC test page, not the publisher's HTML --><ul>{anchors}</ul>"
    return Reply(html.encode(), content_type="text/html; charset=utf-8")


def csv_reply(path: Path, **options: object) -> Reply:
    return Reply(path.read_bytes(), content_type="text/csv", **options)  # type: ignore[arg-type]


@pytest.fixture
def ae_may(real_data: Path) -> Path:
    # the real official Monthly-AE-May-2024.csv, renamed by the repository it came from
    return real_data / "ae-attendances" / "ae_activity_2024-05.csv"


def test_known_url_download_is_byte_identical_with_provenance(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path
) -> None:
    publisher.publish(AE_MAY, csv_reply(ae_may))
    file = web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")

    assert file.path == tmp_path / "raw" / "ae" / "Monthly-AE-May-2024.csv"
    assert file.path.read_bytes() == ae_may.read_bytes()
    assert file.sha256 == sha256_of(ae_may) and file.bytes == ae_may.stat().st_size == 28208
    assert (file.url, file.official_name, file.origin, file.period) == (
        AE_MAY,
        "Monthly-AE-May-2024.csv",
        "web",
        "2024-05-01",
    )
    sidecar = json.loads((file.path.parent / "Monthly-AE-May-2024.csv.source.json").read_text())
    assert sidecar["source_url"] == sidecar["final_url"] == AE_MAY
    assert sidecar["sha256"] == file.sha256 and sidecar["bytes"] == 28208
    assert sidecar["content_type"] == "text/csv" and sidecar["fetched_at"] == file.fetched_at
    assert sorted(p.name for p in file.path.parent.iterdir()) == [
        "Monthly-AE-May-2024.csv",
        "Monthly-AE-May-2024.csv.source.json",
    ]


def test_sickness_file_name_is_decoded_from_its_url(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    real = real_data / "sickness-absence" / "nhs_sickness_absence_2024-04.csv"
    publisher.publish(SICKNESS_APRIL, csv_reply(real))
    file = web_fetch(web_source(), "sickness", "monthly_csv", "2024-04-01")
    assert file.path.name == file.official_name == "NHS Sickness Absence rates CSV, April 2024.csv"
    assert file.path.read_bytes() == real.read_bytes()


def test_discovery_finds_periods_and_prefers_the_revised_file(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    ae = real_data / "ae-attendances"
    july_revised = UPLOADS + "2024/12/Monthly-AE-July-2024-revised.csv"
    july_first = "/statistics/wp-content/uploads/sites/2/2024/08/Monthly-AE-July-2024.csv"  # relative link
    publisher.publish(AE_PAGE, synthetic_page(AE_YEAR_PAGE, "https://example.org/elsewhere/"))
    publisher.publish(
        AE_YEAR_PAGE,
        synthetic_page(
            july_first,
            july_revised,
            UPLOADS + "2024/09/Monthly-AE-August-2024.csv",
            UPLOADS + "2025/07/June-2025-AE-by-provider-3euC4-1.xlsx",
            "https://example.org/Monthly-AE-March-2023.csv",  # another host: never a candidate
        ),
    )
    publisher.publish(july_revised, csv_reply(ae / "Monthly-AE-July-2024-revised.csv"))
    source = web_source()

    # discovered months plus the two known URLs (April and May 2024)
    assert web_periods(source, "ae", "monthly_csv") == ["2024-04-01", "2024-05-01", "2024-07-01", "2024-08-01"]
    assert web_periods(source, "ae", "provider_workbook") == ["2025-06-01"]
    file = web_fetch(source, "ae", "monthly_csv", "2024-07-01")
    assert file.url == july_revised and file.official_name == "Monthly-AE-July-2024-revised.csv"
    assert file.path.read_bytes() == (ae / "Monthly-AE-July-2024-revised.csv").read_bytes()
    assert publisher.hit_count(UPLOADS + "2024/08/Monthly-AE-July-2024.csv") == 0
    assert publisher.hit_count(AE_PAGE) == 1  # landing pages are read once per process


def test_a_revised_release_supersedes_the_cached_original(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    # the unrevised July 2024 file is not among the real files, so the revised bytes stand in for it:
    # only the file names and the cache bookkeeping matter here
    revised_bytes = real_data / "ae-attendances" / "Monthly-AE-July-2024-revised.csv"
    first, revised = UPLOADS + "2024/08/Monthly-AE-July-2024.csv", UPLOADS + "2024/12/Monthly-AE-July-2024-revised.csv"
    publisher.publish(AE_PAGE, synthetic_page(AE_YEAR_PAGE))
    publisher.publish(AE_YEAR_PAGE, synthetic_page(first))
    publisher.publish(first, csv_reply(revised_bytes))
    publisher.publish(revised, csv_reply(revised_bytes))
    source = web_source()
    original = web_fetch(source, "ae", "monthly_csv", "2024-07-01")
    assert original.official_name == "Monthly-AE-July-2024.csv"

    publisher.publish(AE_YEAR_PAGE, synthetic_page(first, revised))
    clear_memo()
    newer = web_fetch(source, "ae", "monthly_csv", "2024-07-01")
    assert newer.official_name == "Monthly-AE-July-2024-revised.csv"
    assert sorted(p.name for p in newer.path.parent.iterdir()) == [
        "Monthly-AE-July-2024-revised.csv",
        "Monthly-AE-July-2024-revised.csv.source.json",
    ]
    sidecar = json.loads(Path(f"{newer.path}.source.json").read_text())
    assert sidecar["replaces"] == "Monthly-AE-July-2024.csv" and sidecar["previous_sha256"] == original.sha256


def test_changed_upstream_file_replaces_the_cache_and_records_the_previous_checksum(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    publisher.publish(ETR, csv_reply(real_data / "ods" / "etr.csv"))
    source = web_source()
    assert web_periods(source, "ods", "etr") == ["current"]
    first = web_fetch(source, "ods", "etr", "current")
    assert first.sha256 == ETR_2025_SHA and first.path.name == "etr.csv"
    assert first.period == datetime.now(UTC).date().isoformat()  # the export's vintage is its download day

    publisher.publish(ETR, csv_reply(real_data / "ods" / "2026" / "etr.csv"))
    second = web_fetch(source, "ods", "etr", "current")
    assert second.path == first.path and second.sha256 == ETR_2026_SHA
    assert second.path.read_bytes() == (real_data / "ods" / "2026" / "etr.csv").read_bytes()
    sidecar = json.loads(Path(f"{second.path}.source.json").read_text())
    assert (sidecar["sha256"], sidecar["previous_sha256"]) == (ETR_2026_SHA, ETR_2025_SHA)


def test_a_dated_ods_vintage_is_only_the_copy_downloaded_that_day(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    publisher.publish(ETR, csv_reply(real_data / "ods" / "2026" / "etr.csv"))
    source = web_source()
    today = web_fetch(source, "ods", "etr", "current").period
    assert web_fetch(source, "ods", "etr", today).sha256 == ETR_2026_SHA
    with pytest.raises(SourceUnavailableError, match="published only as the current file"):
        web_fetch(source, "ods", "etr", "2025-01-01")


def test_unchanged_file_is_revalidated_with_its_etag(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    publisher.publish(ETR, csv_reply(real_data / "ods" / "etr.csv", etag='"etr-2025"'))
    source = web_source()
    first = web_fetch(source, "ods", "etr", "current")
    second = web_fetch(source, "ods", "etr", "current")
    assert publisher.hits["/api/getReport?report=etr"] == [200, 304]
    assert publisher.request_headers["/api/getReport?report=etr"][1]["If-None-Match"] == '"etr-2025"'
    assert (second.path, second.sha256, second.origin) == (first.path, ETR_2025_SHA, "web")


def test_two_level_discovery_of_the_cancer_provider_workbook(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path
) -> None:
    real = real_data / "cancer-waiting-times" / "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL (2).xlsx"
    year_page = CANCER_PAGE + "monthly-prov-cwt/2025-26-monthly-provider-cancer-waiting-times-statistics/"
    month_page = year_page + "provider-based-cancer-waiting-times-for-april-2025-26-provisional/"
    workbook = UPLOADS + "2025/06/APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx"
    publisher.publish(CANCER_PAGE, synthetic_page(year_page))
    publisher.publish(year_page, synthetic_page(month_page))
    publisher.publish(month_page, synthetic_page(workbook))
    publisher.publish(workbook, Reply(real.read_bytes(), content_type="application/vnd.ms-excel"))
    source = web_source()
    assert web_periods(source, "cancer", "provider_workbook") == ["2025-04-01"]
    file = web_fetch(source, "cancer", "provider_workbook", "2025-04-01")
    assert file.official_name == "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL.xlsx"
    assert file.path.read_bytes() == real.read_bytes()


def test_404_means_the_publisher_has_no_file(publisher: PublisherServer, web_source: MakeSource, tmp_path) -> None:
    with pytest.raises(SourceUnavailableError, match=r"June%202024.csv: HTTP 404 Not Found"):
        web_fetch(web_source(), "sickness", "monthly_csv", "2024-06-01")
    assert publisher.hit_count(SICKNESS_JUNE) == 1  # never retried
    assert tree_bytes(tmp_path / "raw") == {}


def test_a_period_nobody_lists_is_unavailable(web_source: MakeSource) -> None:
    with pytest.raises(SourceUnavailableError, match="lists no sickness/monthly_csv file for 2019-01-01"):
        web_fetch(web_source(), "sickness", "monthly_csv", "2019-01-01")


def test_snapshot_only_products_are_unavailable_on_the_web(web_source: MakeSource) -> None:
    assert web_periods(web_source(), "staff_survey", "trust_extract") == []
    with pytest.raises(SourceUnavailableError, match="only in the bundled snapshot"):
        web_fetch(web_source(), "staff_survey", "trust_extract", "2024")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_error_then_success_is_retried(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, status: int
) -> None:
    publisher.publish(AE_MAY, Reply(b"busy", status, "text/plain"), csv_reply(ae_may))
    file = web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    assert publisher.hits["/statistics/wp-content/uploads/sites/2/2024/06/Monthly-AE-May-2024.csv"] == [status, 200]
    assert file.path.read_bytes() == ae_may.read_bytes()


def test_a_server_that_does_not_answer_times_out(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, real_data: Path, tmp_path: Path
) -> None:
    publisher.publish(AE_MAY, csv_reply(ae_may, delay_seconds=1.0), csv_reply(ae_may))
    file = web_fetch(web_source(timeout_seconds=0.2), "ae", "monthly_csv", "2024-05-01")  # second try answers
    assert file.path.read_bytes() == ae_may.read_bytes()
    publisher.publish(AE_MAY, csv_reply(ae_may, delay_seconds=1.0))
    with pytest.raises(DownloadError, match=r"timed out after 0\.2 s .*\(gave up after 2 attempts\)"):
        no_cache = web_source(timeout_seconds=0.2, retries=1, raw_dir=str(tmp_path / "empty"))
        web_fetch(no_cache, "ae", "monthly_csv", "2024-05-01")
    # the host is now known to be unreachable: other files there fail at once (or come from the cache)
    april = UPLOADS + "2024/11/Monthly-AE-April-2024-revised.csv"
    publisher.publish(april, csv_reply(real_data / "ae-attendances" / "ae_activity_2024-04.csv"))
    with pytest.raises(DownloadError, match=r"www\.england\.nhs\.uk could not be reached earlier in this run"):
        web_fetch(no_cache, "ae", "monthly_csv", "2024-04-01")
    assert publisher.hit_count(april) == 0


def test_a_stale_temporary_file_of_a_killed_run_is_cleaned_up(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "raw" / "ae"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".Monthly-AE-May-2024.csv.k1ll3d.part", folder / ".Monthly-AE-May-2024.csv.l1v3.part"
    for part in (stale, fresh):
        part.write_bytes(ae_may.read_bytes()[:5000])
    os.utime(stale, (0, 0))
    publisher.publish(AE_MAY, csv_reply(ae_may))
    web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    assert not stale.exists() and fresh.exists()  # a younger one may belong to a download still running


def test_persistent_500_gives_up_and_names_the_url(
    publisher: PublisherServer, web_source: MakeSource, tmp_path: Path
) -> None:
    publisher.publish(AE_MAY, Reply(b"<html>error</html>", 500, "text/html"))
    with pytest.raises(DownloadError) as error:
        web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    assert str(error.value) == (
        f"download of {AE_MAY} failed: HTTP 500 Internal Server Error (gave up after 3 attempts)"
    )
    assert publisher.hit_count(AE_MAY) == 3
    assert tree_bytes(tmp_path / "raw") == {}


def test_truncated_body_is_retried_then_refused(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path
) -> None:
    publisher.publish(AE_MAY, csv_reply(ae_may, truncate_to=10_000))
    expected = r"truncated body: the transfer broke off after 10,000 of 28,208 bytes \(gave up after 3 attempts\)"
    with pytest.raises(DownloadError, match=expected):
        web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    assert publisher.hit_count(AE_MAY) == 3
    assert tree_bytes(tmp_path / "raw") == {}  # no partial or temporary file


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/html; charset=utf-8", r"an HTML page \(Content-Type text/html\) instead of an Excel workbook"),
        ("application/octet-stream", r"expected an Excel workbook \(\.xlsx\) \(zip signature .*but got an HTML page"),
    ],
)
def test_html_page_served_as_xlsx_is_refused_without_retry(
    publisher: PublisherServer, web_source: MakeSource, tmp_path: Path, content_type: str, message: str
) -> None:
    publisher.publish(BENCHMARK_2024, Reply(NOT_FOUND_PAGE, 200, content_type))
    with pytest.raises(DownloadError, match=message) as error:
        web_fetch(web_source(), "staff_survey", "benchmark_workbook", "2024")
    assert BENCHMARK_2024 in str(error.value)
    assert publisher.hit_count(BENCHMARK_2024) == 1
    assert tree_bytes(tmp_path / "raw") == {}


def test_html_page_served_as_csv_is_refused(publisher: PublisherServer, web_source: MakeSource) -> None:
    publisher.publish(SICKNESS_APRIL, Reply(NOT_FOUND_PAGE, 200, "text/csv"))
    with pytest.raises(DownloadError, match="expected a CSV file but got an HTML page"):
        web_fetch(web_source(), "sickness", "monthly_csv", "2024-04-01")


def test_oversize_files_are_refused_by_header_and_while_streaming(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path
) -> None:
    source = web_source(max_bytes=10_000)
    publisher.publish(AE_MAY, csv_reply(ae_may))
    with pytest.raises(DownloadError, match="Content-Length 28,208 bytes is over the size cap of 10,000 bytes"):
        web_fetch(source, "ae", "monthly_csv", "2024-05-01")
    publisher.publish(AE_MAY, csv_reply(ae_may, send_length=False))
    with pytest.raises(DownloadError, match="body exceeded the size cap of 10,000 bytes while streaming"):
        web_fetch(source, "ae", "monthly_csv", "2024-05-01")
    assert tree_bytes(tmp_path / "raw") == {}


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("https://evil.example.org/Monthly-AE-May-2024.csv", "host 'evil.example.org' is not an allow-listed"),
        ("http://www.england.nhs.uk/Monthly-AE-May-2024.csv", "only HTTPS is allowed"),
    ],
)
def test_redirect_off_the_allow_list_is_refused(
    publisher: PublisherServer, web_source: MakeSource, location: str, message: str
) -> None:
    publisher.publish(AE_MAY, Reply(status=302, headers={"Location": location}))
    with pytest.raises(DownloadError, match=f"refused redirect to {location}: .*{message}"):
        web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")


def test_redirect_within_the_publishers_is_followed_and_recorded(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path
) -> None:
    moved = UPLOADS + "2024/06/moved/Monthly-AE-May-2024.csv"
    publisher.publish(AE_MAY, Reply(status=301, headers={"Location": "moved/Monthly-AE-May-2024.csv"}))
    publisher.publish(moved, csv_reply(ae_may))
    file = web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    sidecar = json.loads(Path(f"{file.path}.source.json").read_text())
    assert (sidecar["source_url"], sidecar["final_url"]) == (AE_MAY, moved)
    assert file.path.read_bytes() == ae_may.read_bytes()


def test_rewrites_and_direct_urls_cannot_leave_the_allow_list(web_source: MakeSource, tmp_path: Path) -> None:
    escaping = web_source(url_rewrites={"https://www.england.nhs.uk": "https://mirror.example.org"})
    with pytest.raises(DownloadError, match="url_rewrites may only point at a loopback test server"):
        web_fetch(escaping, "ae", "monthly_csv", "2024-05-01")
    with pytest.raises(DownloadError, match=r"host 'example\.org' is not an allow-listed publisher"):
        http.download("https://example.org/x.csv", tmp_path, "csv", web_source(), name="x.csv")
    with pytest.raises(DownloadError, match="only HTTPS is allowed"):
        http.download("http://www.england.nhs.uk/x.csv", tmp_path, "csv", web_source(), name="x.csv")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_run_reuses_the_cache_and_says_how_old_it_is(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path, caplog
) -> None:
    publisher.publish(AE_MAY, csv_reply(ae_may))
    cached = web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    sidecar_file = Path(f"{cached.path}.source.json")
    sidecar = json.loads(sidecar_file.read_text())
    downloaded = datetime.now(UTC) - timedelta(days=41, hours=1)
    sidecar["fetched_at"] = downloaded.isoformat(timespec="seconds")  # pretend the download was 41 days ago
    sidecar_file.write_text(json.dumps(sidecar))
    before = tree_bytes(tmp_path / "raw")

    nowhere = {official: f"http://127.0.0.1:{_closed_port()}" for official in publisher.rewrites()}
    with caplog.at_level(logging.WARNING, logger="pipeline.fetch"):
        offline = web_fetch(web_source(url_rewrites=nowhere), "ae", "monthly_csv", "2024-05-01")
    assert (offline.origin, offline.path, offline.sha256) == ("cache", cached.path, cached.sha256)
    assert offline.fetched_at == sidecar["fetched_at"]
    assert f"using cached copy from {downloaded.date().isoformat()}, 41 days old" in caplog.text
    # the landing page on the same host failed first, so the file is not even tried again
    assert f"download of {AE_MAY} failed: www.england.nhs.uk could not be reached earlier in this run" in caplog.text
    assert "could not connect" in caplog.text
    assert tree_bytes(tmp_path / "raw") == before


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        ("html-instead", DownloadError),
        ("truncated", "cache"),
        ("persistent-500", "cache"),
        ("withdrawn-404", SourceUnavailableError),
    ],
)
def test_a_failed_download_never_changes_the_cached_file(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, tmp_path: Path, failure: str, outcome
) -> None:
    publisher.publish(AE_MAY, csv_reply(ae_may))
    web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    before = tree_bytes(tmp_path / "raw")
    replies = {
        "html-instead": Reply(NOT_FOUND_PAGE, 200, "text/csv"),
        "truncated": csv_reply(ae_may, truncate_to=10_000),
        "persistent-500": Reply(b"oops", 500, "text/plain"),
        "withdrawn-404": Reply(NOT_FOUND_PAGE, 404, "text/html"),
    }
    publisher.publish(AE_MAY, replies[failure])
    if outcome == "cache":
        assert web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01").origin == "cache"
    else:
        with pytest.raises(outcome):
            web_fetch(web_source(), "ae", "monthly_csv", "2024-05-01")
    assert tree_bytes(tmp_path / "raw") == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(
    publisher: PublisherServer, web_source: MakeSource, ae_may: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr(http, "PROGRESS_DELAY_SECONDS", 0.0)
    publisher.publish(AE_MAY, csv_reply(ae_may))
    web_fetch(web_source(show_progress=True), "ae", "monthly_csv", "2024-05-01")
    assert "Monthly-AE-May-2024.csv" in terminal.getvalue() and "27.5k" in terminal.getvalue()
