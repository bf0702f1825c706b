"""Which URLs the pipeline may download from, and the test-only rewrite onto a local server.

Only the official publishers' hosts are allowed, over HTTPS. Tests map those hosts onto a server on the
loopback interface with `SourceResource.url_rewrites`; a plain-HTTP URL is accepted only when it is a
loopback URL produced by such a rewrite, so no configuration can send a request anywhere else.
"""

import ipaddress
from collections.abc import Mapping
from pathlib import PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

ALLOWED_HOSTS = frozenset(
    {
        "www.nhsstaffsurveys.com",
        "cms.nhsstaffsurveys.com",
        "www.england.nhs.uk",
        "files.digital.nhs.uk",
        "digital.nhs.uk",
        "www.odsdatasearchandexport.nhs.uk",
    }
)


class DisallowedURLError(ValueError):
    """A URL outside the publisher allow-list, or not HTTPS."""


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_loopback(url: str) -> bool:
    host = host_of(url)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_official(url: str) -> None:
    """Raise DisallowedURLError unless `url` is HTTPS on an allow-listed publisher host."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise DisallowedURLError(f"only HTTPS is allowed, not {parts.scheme or 'a relative URL'!r} ({url})")
    if host_of(url) not in ALLOWED_HOSTS:
        raise DisallowedURLError(
            f"host {host_of(url) or '(none)'!r} is not an allow-listed publisher ({', '.join(sorted(ALLOWED_HOSTS))})"
        )
    if parts.username or parts.password:
        raise DisallowedURLError(f"credentials in URLs are not allowed ({url})")


def _prefix_matches(url: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/")
    return url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?")


def rewrite(url: str, rewrites: Mapping[str, str]) -> str:
    """The URL actually requested: the official URL, or its loopback stand-in in tests."""
    for official, local in rewrites.items():
        if _prefix_matches(url, official):
            target = local.rstrip("/") + url[len(official.rstrip("/")) :]
            if not is_loopback(target):
                raise DisallowedURLError(f"url_rewrites may only point at a loopback test server, not {local!r}")
            return target
    return url


def official_form(url: str, rewrites: Mapping[str, str], current_official: str) -> str:
    """Map a URL the (test) server named, e.g. in a redirect, back to the official URL it stands for."""
    matches = [(o, local) for o, local in rewrites.items() if _prefix_matches(url, local)]
    if not matches:
        return url
    # several hosts may share one test server: prefer the host we are already on
    current = host_of(current_official)
    official, local = next(((o, lo) for o, lo in matches if host_of(o) == current), matches[0])
    return official.rstrip("/") + url[len(local.rstrip("/")) :]


def resolve_link(base_official: str, link: str, rewrites: Mapping[str, str]) -> str:
    """Absolute official URL of a link (or redirect Location) seen on a page fetched from `base_official`."""
    return urljoin(base_official, official_form(link.strip(), rewrites, base_official))


def file_name(url: str) -> str:
    """The decoded last path segment: 'NHS Sickness Absence rates CSV, April 2024.csv'."""
    return unquote(PurePosixPath(urlsplit(url).path).name)
