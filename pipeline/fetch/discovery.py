"""Find a product's files on the publisher's landing pages (HTML links, or the survey catalogue JSON).

Links whose file name matches the catalogue's regex become candidates for the period the name gives;
sub-pages matching the follow pattern (financial-year pages, monthly publication pages) are read too,
up to the catalogue's depth and page limit. Landing pages are read once per process and product set
(for `DISCOVERY_TTL_SECONDS`), because every partition of a run asks for the same pages.
"""

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from pipeline.errors import SourceUnavailableError
from pipeline.fetch.catalogue import CatalogueEntry, known_for
from pipeline.fetch.http import DownloadError, FetchSettings, forget_unreachable_hosts, get_page
from pipeline.fetch.urls import DisallowedURLError, check_official, file_name, resolve_link

log = logging.getLogger("pipeline.fetch")
DISCOVERY_TTL_SECONDS = 900.0
_LINK_ATTRIBUTES = {"href", "src", "data-href", "data-url"}


@dataclass(frozen=True)
class Candidate:
    url: str
    name: str
    period: str
    rank: tuple[int, int]
    found_on: str  # landing page, or "known URL: <source>"


@dataclass
class Discovery:
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # pages that could not be read

    @property
    def complete(self) -> bool:
        return not self.problems

    def for_period(self, period: str) -> list[Candidate]:
        """Candidates for a period, best first: revised or later version, then the later upload path."""
        matching = [c for c in self.candidates if c.period == period]
        best_first: list[Candidate] = []
        for candidate in sorted(matching, key=lambda c: (c.rank, c.url), reverse=True):
            if candidate.url not in {c.url for c in best_first}:
                best_first.append(candidate)
        return best_first

    def periods(self) -> set[str]:
        return {c.period for c in self.candidates}


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links.extend(value for name, value in attrs if name in _LINK_ATTRIBUTES and value)


def _json_strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _json_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _json_strings(value)


def page_links(text: str, content_type: str) -> list[str]:
    """Every link on an HTML page, or every string value of a JSON document (Gatsby `publicURL`s)."""
    stripped = text.lstrip()
    if "json" in content_type or stripped.startswith(("{", "[")):
        try:
            return [s for s in _json_strings(json.loads(stripped)) if "/" in s or "." in s]
        except ValueError:
            pass
    collector = _LinkCollector()
    collector.feed(text)
    return collector.links


# page URL + rewrites -> (when read, its links or why it could not be read)
_PAGE_MEMO: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, list[str] | Exception]] = {}


def clear_memo() -> None:
    """Forget pages read and hosts found unreachable earlier in this process (tests change their server)."""
    _PAGE_MEMO.clear()
    forget_unreachable_hosts()


def _links_on(page: str, settings: FetchSettings) -> list[str]:
    """Official URLs linked from a page; a page that failed is not asked again until the memo expires."""
    key = (page, tuple(sorted(settings.url_rewrites.items())))
    memo = _PAGE_MEMO.get(key)
    if memo is None or time.monotonic() - memo[0] >= DISCOVERY_TTL_SECONDS:
        try:
            fetched = get_page(page, settings)
        except (DownloadError, SourceUnavailableError) as error:
            log.warning("could not read landing page %s (%s); using known URLs and the cache", page, error)
            memo = (time.monotonic(), error)
        else:
            links = []
            for raw in page_links(fetched.text, fetched.content_type):
                try:
                    url = resolve_link(fetched.final_url, raw, settings.url_rewrites)
                    check_official(url)
                except (DisallowedURLError, ValueError):
                    continue  # links to other sites are neither files nor pages we may read
                links.append(url.split("#")[0])
            memo = (time.monotonic(), links)
        _PAGE_MEMO[key] = memo
    if isinstance(memo[1], Exception):
        raise memo[1]
    return memo[1]


def discover(entry: CatalogueEntry, settings: FetchSettings) -> Discovery:
    """Candidates from the landing pages (breadth first) plus the known URLs of the catalogue."""
    result = Discovery()
    queue = [(page, 0) for page in entry.landing_pages]
    seen = {page for page, _ in queue}
    followed = 0
    while queue:
        page, depth = queue.pop(0)
        try:
            links = _links_on(page, settings)
        except (DownloadError, SourceUnavailableError) as error:
            result.problems.append(f"landing page unreadable ({error})")
            continue
        for link in links:
            period = entry.period_of(file_name(link))
            if period is not None:
                result.candidates.append(
                    Candidate(link, file_name(link), period, entry.revision_rank(file_name(link)), page)
                )
            elif (
                depth < entry.follow_depth
                and entry.follow_pattern is not None
                and entry.follow_pattern.search(link)
                and link not in seen
                and followed < entry.follow_limit
            ):
                seen.add(link)
                followed += 1
                queue.append((link, depth + 1))
    for known in known_for(entry.dataset, entry.product):
        name = entry.cache_name_for(known.url)
        result.candidates.append(
            Candidate(known.url, name, known.period, entry.revision_rank(name), f"known URL: {known.source}")
        )
    return result
