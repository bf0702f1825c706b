"""Staff survey in web mode: the detailed-spreadsheets zip, found through the survey catalogue JSON.

The zip is built by the test from the two real NSS24 workbooks (the organisation type results
workbook of the official zip is not available). The catalogue JSON and its hash path are SYNTHETIC.
"""

import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import InputDataError, SourceUnavailableError
from pipeline.fetch import DownloadError, web_fetch, web_periods
from pipeline.resources import SourceResource
from tests.fetch.conftest import (
    NSS24_NATIONAL,
    NSS24_ORGANISATIONAL,
    NSS24_PATH,
    NSS24_ZIP,
    SURVEY_CATALOGUE_JSON,
    survey_catalogue_json,
    tree_bytes,
)
from tests.helpers.publisher_server import PublisherServer, Reply

ORGANISATIONAL = NSS24_ORGANISATIONAL
NATIONAL = NSS24_NATIONAL
CATALOGUE_JSON = SURVEY_CATALOGUE_JSON
catalogue_json = survey_catalogue_json
# nhs-staff-survey-nss24-workbooks/PROVENANCE.md
ORGANISATIONAL_SHA = "2a894c46efce36a3b4291f5d0c299415ae3a0d10428110688eabb47842b63c79"

MakeSource = Callable[..., SourceResource]


@pytest.fixture(scope="module")
def detailed_zip(nss24_detailed_zip: bytes) -> bytes:
    return nss24_detailed_zip


def zip_reply(body: bytes, **options: object) -> Reply:
    return Reply(body, content_type="application/zip", **options)  # type: ignore[arg-type]


def test_organisational_workbook_comes_out_of_the_detailed_spreadsheets_zip(
    publisher: PublisherServer, web_source: MakeSource, detailed_zip: bytes, real_data: Path, tmp_path: Path
) -> None:
    publisher.publish(CATALOGUE_JSON, catalogue_json(NSS24_PATH, "/static/abc/NSS-Benchmark-report.pdf"))
    publisher.publish(NSS24_ZIP, zip_reply(detailed_zip))
    source = web_source()
    # 2024 from the catalogue JSON, 2025 from the known NSS25 URL (data-sources.md §3.2)
    assert web_periods(source, "staff_survey", "organisational_workbook") == ["2024", "2025"]

    file = web_fetch(source, "staff_survey", "organisational_workbook", "2024")
    real = real_data / "nhs-staff-survey-nss24-workbooks" / ORGANISATIONAL
    assert file.path == tmp_path / "raw" / "staff_survey" / ORGANISATIONAL
    assert file.path.read_bytes() == real.read_bytes()
    assert (file.sha256, file.bytes, file.official_name) == (ORGANISATIONAL_SHA, 2_890_558, ORGANISATIONAL)
    assert (file.url, file.origin, file.period) == (NSS24_ZIP, "web", "2024")
    assert sorted(p.name for p in file.path.parent.iterdir()) == sorted(
        [
            "NSS24-Detailed-spreadsheets.zip",
            "NSS24-Detailed-spreadsheets.zip.source.json",
            ORGANISATIONAL,
            ORGANISATIONAL + ".source.json",
        ]
    )
    sidecar = json.loads(Path(f"{file.path}.source.json").read_text())
    assert (sidecar["member"], sidecar["archive"], sidecar["source_url"]) == (
        ORGANISATIONAL,
        "NSS24-Detailed-spreadsheets.zip",
        NSS24_ZIP,
    )


def test_unchanged_zip_is_not_unpacked_again(
    publisher: PublisherServer, web_source: MakeSource, detailed_zip: bytes
) -> None:
    publisher.publish(CATALOGUE_JSON, catalogue_json(NSS24_PATH))
    publisher.publish(NSS24_ZIP, zip_reply(detailed_zip, etag='"nss24"'))
    source = web_source()
    first = web_fetch(source, "staff_survey", "organisational_workbook", "2024")
    unpacked_at = os.stat(first.path).st_mtime_ns
    second = web_fetch(source, "staff_survey", "organisational_workbook", "2024")
    assert publisher.hits[NSS24_PATH] == [200, 304]
    assert second.path == first.path and os.stat(second.path).st_mtime_ns == unpacked_at
    assert second.sha256 == ORGANISATIONAL_SHA


def test_offline_rerun_reuses_the_cached_zip(
    publisher: PublisherServer, web_source: MakeSource, detailed_zip: bytes, caplog
) -> None:
    publisher.publish(CATALOGUE_JSON, catalogue_json(NSS24_PATH))
    publisher.publish(NSS24_ZIP, zip_reply(detailed_zip))
    web_fetch(web_source(), "staff_survey", "organisational_workbook", "2024")
    publisher.publish(NSS24_ZIP, Reply(b"down for maintenance", 503, "text/plain"))
    file = web_fetch(web_source(), "staff_survey", "organisational_workbook", "2024")
    assert (file.origin, file.sha256) == ("cache", ORGANISATIONAL_SHA)
    assert "HTTP 503 Service Unavailable (gave up after 3 attempts); using cached copy from" in caplog.text


def test_a_year_whose_zip_is_gone_is_unavailable(publisher: PublisherServer, web_source: MakeSource) -> None:
    with pytest.raises(SourceUnavailableError, match=r"NSS25-Detailed-spreadsheets\.zip: HTTP 404"):
        web_fetch(web_source(), "staff_survey", "organisational_workbook", "2025")


def _zip_with(tmp_path: Path, name: str | zipfile.ZipInfo, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An archive built by the test to carry one unsafe member (synthetic structure)."""
    path = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr(name, data)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("member", "data", "method", "message"),
    [
        ("../../" + ORGANISATIONAL, b"x", zipfile.ZIP_DEFLATED, "path traversal"),
        ("/tmp/" + ORGANISATIONAL, b"x", zipfile.ZIP_DEFLATED, "path traversal"),
        (ORGANISATIONAL, bytes(8 << 20), zipfile.ZIP_BZIP2, "a zip bomb, refused"),
    ],
    ids=["dot-dot", "absolute", "zip-bomb"],
)
def test_unsafe_survey_zips_never_enter_the_cache(
    publisher: PublisherServer,
    web_source: MakeSource,
    tmp_path: Path,
    member: str,
    data: bytes,
    method: int,
    message: str,
) -> None:
    publisher.publish(CATALOGUE_JSON, catalogue_json(NSS24_PATH))
    publisher.publish(NSS24_ZIP, zip_reply(_zip_with(tmp_path, member, data, method)))
    with pytest.raises(DownloadError, match=message) as error:
        web_fetch(web_source(), "staff_survey", "organisational_workbook", "2024")
    assert NSS24_ZIP in str(error.value)
    assert publisher.hit_count(NSS24_ZIP) == 1  # a failed content check is not retried
    assert tree_bytes(tmp_path / "raw") == {}


def test_zip_without_the_organisational_workbook_is_a_clear_error(
    publisher: PublisherServer, web_source: MakeSource, real_data: Path, tmp_path: Path
) -> None:
    # any real workbook's bytes under the national workbook's name: the zip lacks the organisational member
    national = (real_data / "nhs-staff-survey-nss24-workbooks" / ORGANISATIONAL).read_bytes()
    publisher.publish(CATALOGUE_JSON, catalogue_json(NSS24_PATH))
    publisher.publish(NSS24_ZIP, zip_reply(_zip_with(tmp_path, NATIONAL, national)))
    with pytest.raises(InputDataError, match=r"file 'NSS24-Detailed-spreadsheets\.zip': expected exactly one member"):
        web_fetch(web_source(), "staff_survey", "organisational_workbook", "2024")
