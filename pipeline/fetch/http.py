"""Careful HTTP downloads from the allow-listed publishers.

Every request: HTTPS to an allow-listed host (or a loopback test server named by `url_rewrites`),
redirects followed by hand and re-checked at every hop, a connect/read timeout, retries with
exponential backoff for transient failures only (connection errors, timeouts, truncated bodies,
HTTP 429 and 5xx; never 404 or a failed content check), a size cap checked against Content-Length
and while streaming, and the body streamed to a temporary file that the caller renames into place.
"""

import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

import requests
import urllib3
from tqdm import tqdm
from urllib3.util import Retry

from pipeline.errors import SourceUnavailableError
from pipeline.fetch.content import ContentError, check_content_type, check_file, media_type
from pipeline.fetch.urls import DisallowedURLError, check_official, host_of, is_loopback, resolve_link, rewrite

T = TypeVar("T")
log = logging.getLogger("pipeline.fetch")
USER_AGENT = "nhs-change-readiness/0.1 (open-source NHS data pipeline; python-requests)"
MAX_REDIRECTS = 5
PAGE_MAX_BYTES = 20 << 20
CHUNK_BYTES = 1 << 16
MAX_BACKOFF_SECONDS = 60.0
# a bar only for downloads still running after this long, so small files stay quiet
PROGRESS_DELAY_SECONDS = 1.0
# temporary files of a killed run; a live download touches its file far more often than this
STALE_PART_SECONDS = 3600


class DownloadError(RuntimeError):
    """A download failed or its bytes failed a check. The message names the URL and what was wrong."""

    def __init__(self, url: str, problem: str, *, transient: bool = False, unreachable: bool = False) -> None:
        self.url = url
        self.problem = problem
        self.transient = transient or unreachable
        self.unreachable = unreachable  # no connection at all (refused, DNS, timeout), as opposed to a bad answer
        super().__init__(f"download of {url} failed: {problem}")


class FetchSettings(Protocol):
    """The SourceResource fields the downloader reads."""

    raw_dir: str
    url_rewrites: dict[str, str]
    timeout_seconds: float
    max_bytes: int
    retries: int
    backoff_seconds: float
    show_progress: bool


@dataclass(frozen=True)
class Downloaded:
    url: str  # the official URL asked for
    final_url: str  # the official URL after redirects
    temp_path: Path  # verified bytes, not yet in the cache: the caller renames or deletes it
    sha256: str
    bytes: int
    content_type: str
    etag: str
    last_modified: str
    fetched_at: str


@dataclass(frozen=True)
class NotModified:
    url: str
    final_url: str


@dataclass(frozen=True)
class Page:
    url: str
    final_url: str
    content_type: str
    text: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def _open(
    session: requests.Session, url: str, settings: FetchSettings, headers: Mapping[str, str]
) -> tuple[requests.Response, str]:
    """GET `url` following redirects only to allowed hosts; returns the response and its official URL."""
    official = url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_official(official)
            actual = rewrite(official, settings.url_rewrites)
        except DisallowedURLError as error:
            raise DownloadError(url, f"refused: {error}") from None
        # a loopback test server is never reached through a proxy
        proxies = {"http": "", "https": ""} if is_loopback(actual) else None
        try:
            response = session.get(
                actual,
                headers=dict(headers),
                stream=True,
                allow_redirects=False,
                timeout=(settings.timeout_seconds, settings.timeout_seconds),
                proxies=proxies,
            )
        except requests.Timeout as error:
            raise DownloadError(
                url, f"timed out after {settings.timeout_seconds:g} s ({_short(error)})", unreachable=True
            ) from None
        except requests.ConnectionError as error:
            raise DownloadError(url, f"could not connect ({_short(error)})", unreachable=True) from None
        except requests.RequestException as error:
            raise DownloadError(url, f"request failed ({_short(error)})") from None
        if response.is_redirect:
            location = response.headers.get("Location", "")
            response.close()
            target = resolve_link(official, location, settings.url_rewrites)
            try:
                check_official(target)
            except DisallowedURLError as error:
                raise DownloadError(url, f"refused redirect to {target}: {error}") from None
            official = target
            continue
        return response, official
    raise DownloadError(url, f"more than {MAX_REDIRECTS} redirects")


def _short(error: BaseException) -> str:
    text = str(error)
    return text if len(text) < 300 else text[:300] + "…"


def _raise_for_status(url: str, response: requests.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    what = f"HTTP {status} {response.reason or ''}".strip()
    response.close()
    if status in (404, 410):
        raise SourceUnavailableError(f"{url}: {what} (the publisher has nothing at this address)")
    raise DownloadError(url, what, transient=status == 429 or status >= 500)


# host -> (when, why) for hosts that could not be reached at all after every retry in this process
_UNREACHABLE: dict[str, tuple[float, str]] = {}
UNREACHABLE_MEMO_SECONDS = 600.0


def forget_unreachable_hosts() -> None:
    _UNREACHABLE.clear()


# set by a stop signal (the command line's SIGTERM handler): a retry wait then ends at once
STOP = threading.Event()


def _policy(settings: FetchSettings) -> Retry:
    """urllib3's retry policy: 1 + retries attempts, exponential backoff after transient failures only (the caller
    decides what is transient: connection errors, timeouts, truncated bodies, HTTP 429 and 5xx)."""
    return Retry(
        total=max(settings.retries, 0),
        backoff_factor=settings.backoff_seconds,
        backoff_max=MAX_BACKOFF_SECONDS,
        raise_on_redirect=False,
    )


def _wait_before_retry(url: str, seconds: float, number: int, attempts: int, why: str) -> None:
    """Say what is awaited and for how long, then wait; a stop signal ends the wait at once."""
    log.warning(f"{host_of(url)}: {why}; retry {number} of {attempts - 1} of {url} in {seconds:g} s")
    if STOP.wait(seconds):
        raise DownloadError(url, f"stopped while waiting to retry ({why})")


def _with_retries(url: str, settings: FetchSettings, attempt: Callable[[], T]) -> T:
    """Call attempt() under urllib3's Retry policy, waiting out its backoff after transient failures.

    A host that could not be reached at all is not tried again for a while, so an offline run falls back
    to the cache at once for every other file instead of waiting through the retries of each one.
    """
    host = host_of(url)
    earlier = _UNREACHABLE.get(host)
    if earlier is not None and time.monotonic() - earlier[0] < UNREACHABLE_MEMO_SECONDS:
        raise DownloadError(url, f"{host} could not be reached earlier in this run ({earlier[1]})", unreachable=True)
    policy = _policy(settings)
    attempts = 1 + policy.total  # type: ignore[operator]
    while True:
        try:
            return attempt()
        except DownloadError as error:
            if error.transient:
                try:
                    # urllib3 counts the attempt and computes the next backoff (backoff_factor * 2**(n-1))
                    policy = policy.increment(method="GET", url=url, error=urllib3.exceptions.ProtocolError(error))
                except urllib3.exceptions.MaxRetryError:
                    pass
                else:
                    number = len(policy.history)
                    wait = settings.backoff_seconds * 2 ** (number - 1)
                    _wait_before_retry(url, min(wait, MAX_BACKOFF_SECONDS), number, attempts, error.problem)
                    continue
            if error.unreachable:
                _UNREACHABLE[host] = (time.monotonic(), error.problem)
            if error.transient and attempts > 1:
                raise DownloadError(
                    url,
                    f"{error.problem} (gave up after {attempts} attempts)",
                    transient=True,
                    unreachable=error.unreachable,
                ) from None
            raise


def get_page(url: str, settings: FetchSettings) -> Page:
    """A landing page or catalogue JSON (small, text), with the same host and retry rules as files."""

    def attempt() -> Page:
        with _session() as session:
            response, final = _open(session, url, settings, {})
            with response:
                _raise_for_status(url, response)
                body = bytearray()
                try:
                    for block in response.iter_content(CHUNK_BYTES):
                        body += block
                        if len(body) > PAGE_MAX_BYTES:
                            raise DownloadError(url, f"page larger than the {PAGE_MAX_BYTES:,}-byte cap")
                except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
                    raise DownloadError(url, f"page body cut short ({_short(error)})", transient=True) from None
                try:
                    text = bytes(body).decode("utf-8")
                except UnicodeDecodeError:
                    text = bytes(body).decode(response.encoding or "latin-1", errors="replace")
                return Page(url, final, media_type(response.headers.get("Content-Type")), text)

    return _with_retries(url, settings, attempt)


def _progress(name: str, total: int | None, settings: FetchSettings) -> tqdm:
    enabled = settings.show_progress and sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=f"  ↓ {name}",
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not enabled,
        delay=PROGRESS_DELAY_SECONDS,
        leave=False,
        dynamic_ncols=True,
    )


def download(
    url: str,
    directory: Path,
    kind: str,
    settings: FetchSettings,
    *,
    name: str,
    etag: str = "",
    last_modified: str = "",
) -> Downloaded | NotModified:
    """Download `url` into a verified temporary file in `directory` (same filesystem as the cache).

    With `etag` / `last_modified` from a cached copy the request is conditional, and an unchanged file
    comes back as NotModified without its bytes. Raises SourceUnavailableError for 404/410 and
    DownloadError for anything else, after retrying transient failures.
    """
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(directory)
    headers = {"Accept-Encoding": "identity"}  # Content-Length then counts the bytes we store
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified

    def attempt() -> Downloaded | NotModified:
        with _session() as session:
            response, final = _open(session, url, settings, headers)
            with response:
                if response.status_code == 304 and (etag or last_modified):
                    return NotModified(url, final)
                _raise_for_status(url, response)
                return _stream_to_temp(url, final, response, directory, kind, settings, name)

    return _with_retries(url, settings, attempt)


def _remove_stale_parts(directory: Path) -> None:
    for part in directory.glob(".*.part"):
        try:
            if time.time() - part.stat().st_mtime > STALE_PART_SECONDS:
                part.unlink()
        except FileNotFoundError:
            pass  # another process finished or removed it


def _stream_to_temp(
    url: str,
    final: str,
    response: requests.Response,
    directory: Path,
    kind: str,
    settings: FetchSettings,
    name: str,
) -> Downloaded:
    content_type = response.headers.get("Content-Type", "")
    try:
        check_content_type(content_type, kind)
    except ContentError as error:
        raise DownloadError(url, str(error)) from None
    declared = response.headers.get("Content-Length")
    expected = int(declared) if declared and declared.isdigit() else None
    if expected is not None and expected > settings.max_bytes:
        raise DownloadError(
            url, f"Content-Length {expected:,} bytes is over the size cap of {settings.max_bytes:,} bytes"
        )
    handle, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    temp = Path(temp_name)
    digest = hashlib.sha256()
    received = 0
    try:
        with os.fdopen(handle, "wb") as out, _progress(name, expected, settings) as bar:
            try:
                for block in response.iter_content(CHUNK_BYTES):
                    received += len(block)
                    if received > settings.max_bytes:
                        raise DownloadError(
                            url, f"body exceeded the size cap of {settings.max_bytes:,} bytes while streaming"
                        )
                    digest.update(block)
                    out.write(block)
                    bar.update(len(block))
            except (requests.RequestException, urllib3.exceptions.HTTPError):
                arrived = max(received, response.raw.tell())  # bytes read off the wire, buffered ones included
                of = f" of {expected:,}" if expected is not None else ""
                raise DownloadError(
                    url, f"truncated body: the transfer broke off after {arrived:,}{of} bytes", transient=True
                ) from None
            out.flush()
            os.fsync(out.fileno())
        # a server that compresses anyway declares the compressed length; urllib3 checks that one
        encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        if expected is not None and received != expected and not encoded:
            raise DownloadError(
                url, f"truncated body: received {received:,} bytes but Content-Length said {expected:,}", transient=True
            )
        try:
            check_file(temp, kind)
        except ContentError as error:
            raise DownloadError(url, str(error)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Downloaded(
        url=url,
        final_url=final,
        temp_path=temp,
        sha256=digest.hexdigest(),
        bytes=received,
        content_type=content_type,
        etag=response.headers.get("ETag", ""),
        last_modified=response.headers.get("Last-Modified", ""),
        fetched_at=_now(),
    )
