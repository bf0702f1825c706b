"""Fixtures for the web source mode: a loopback publisher server and a web SourceResource pointed at it."""

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.fetch.discovery import clear_memo
from pipeline.resources import SourceResource
from tests.helpers.publisher_server import PublisherServer, Reply, running_publisher

SURVEY_CATALOGUE_JSON = "https://www.nhsstaffsurveys.com/page-data/sq/d/4265973848.json"
NSS24_PATH = "/static/00000000000000000000000000000024/NSS24-Detailed-spreadsheets.zip"  # synthetic hash
NSS24_ZIP = "https://www.nhsstaffsurveys.com" + NSS24_PATH
NSS24_ORGANISATIONAL = "NSS24 detailed spreadsheets organisational results.xlsx"
NSS24_NATIONAL = "NSS24 detailed spreadsheets national results.xlsx"


@pytest.fixture
def publisher() -> Iterator[PublisherServer]:
    clear_memo()
    with running_publisher() as server:
        yield server
    clear_memo()


@pytest.fixture
def web_source(publisher: PublisherServer, tmp_path: Path) -> Callable[..., SourceResource]:
    """A web-mode source whose official hosts all map to the loopback server; fast retries for tests."""

    def make(**overrides: object) -> SourceResource:
        settings: dict[str, object] = {
            "mode": "web",
            "raw_dir": str(tmp_path / "raw"),
            "url_rewrites": publisher.rewrites(),
            "timeout_seconds": 5.0,
            "retries": 2,
            "backoff_seconds": 0.01,
            "show_progress": False,
        }
        return SourceResource(**(settings | overrides))  # type: ignore[arg-type]

    return make


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under root (hidden temporary files included) and its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def survey_catalogue_json(*public_urls: str) -> Reply:
    document = {
        "_comment": "SYNTHETIC test document shaped like a Gatsby static query; only the file paths matter",
        "data": {"allFile": {"nodes": [{"publicURL": url, "extension": "zip"} for url in public_urls]}},
    }
    return Reply(json.dumps(document).encode(), content_type="application/json")


@pytest.fixture(scope="session")
def nss24_detailed_zip(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A detailed-spreadsheets zip laid out like the official one (not available offline): the real organisational
    workbook, and a member named as the national workbook, which the fetcher must leave alone. The snapshot does not
    ship the national workbook, so the organisational workbook's bytes stand in for it (its content is never read)."""
    folder = real_data / "nhs-staff-survey-nss24-workbooks"
    path = tmp_path_factory.mktemp("nss24") / "NSS24-Detailed-spreadsheets.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(folder / NSS24_ORGANISATIONAL, NSS24_NATIONAL)
        archive.write(folder / NSS24_ORGANISATIONAL, NSS24_ORGANISATIONAL)
        archive.writestr("__MACOSX/._" + NSS24_ORGANISATIONAL, b"\x00\x05\x16\x07")
    return path.read_bytes()


def cache_state(root: Path) -> dict[str, object]:
    """The download cache as a test compares it: every file's bytes, except that a sidecar's `checked_at` (the
    last time the publisher confirmed an unchanged file) may move on when other downloads in the run succeed."""
    state: dict[str, object] = {}
    for name, data in tree_bytes(root).items():
        if name.endswith(".source.json"):
            meta = json.loads(data)
            meta.pop("checked_at", None)
            state[name] = meta
        else:
            state[name] = data
    return state
