"""Downloads from the official publishers for `SourceResource(mode="web")`.

- `web_periods(source, dataset, product)` / `web_fetch(source, dataset, product, period)`: see web.py;
- `data/reference/source_catalogue.csv` and `source_known_urls.csv`: where each product is published;
- `zipsafe.safe_members` / `zipsafe.extract_member`: guards for any zip read from the web.
"""

import logging
import sys
from typing import TextIO

from pipeline.fetch.http import DownloadError
from pipeline.fetch.web import web_fetch, web_periods

__all__ = ["DownloadError", "show_notes_on_console", "web_fetch", "web_periods"]


def show_notes_on_console() -> None:
    """Print download notes (cached copies reused, revised files) on stderr, for the command line."""
    logger = logging.getLogger("pipeline.fetch")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("  ! %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (pytest swaps it per test)."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass
