"""Fixtures for the web source mode: a loopback publisher server and a web SourceResource pointed at it."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.fetch.discovery import clear_memo
from pipeline.resources import SourceResource
from tests.helpers.publisher_server import PublisherServer, running_publisher


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
