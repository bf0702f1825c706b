"""`web` source mode: the periods the publishers offer, and a verified local copy of a period's file.

`SourceResource.available()` / `.fetch()` call `web_periods` / `web_fetch` in web mode. A period's file
is downloaded into the cache (raw_dir/<dataset>/<file name> + sidecar); products published inside a zip
(the staff survey detailed spreadsheets) are unpacked safely and the wanted member is returned.
When the publisher cannot be reached (transient failure after retries) a verified cached copy is reused
and a note of its age is logged; every other failure raises, leaving the cache as it was.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.errors import InputDataError, SourceUnavailableError
from pipeline.fetch import cache
from pipeline.fetch.cache import CachedFile
from pipeline.fetch.catalogue import CatalogueEntry, entry_for
from pipeline.fetch.discovery import Candidate, Discovery, discover
from pipeline.fetch.http import DownloadError, FetchSettings, NotModified, download
from pipeline.fetch.zipsafe import extract_member, safe_members
from pipeline.sources import SourceFile, sha256_of

log = logging.getLogger("pipeline.fetch")
CURRENT = "current"
MEMBER_CONTENT_TYPES = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _role(entry: CatalogueEntry) -> str:
    return "member" if entry.member_pattern is not None else "download"


def web_periods(source: FetchSettings, dataset: str, product: str) -> list[str]:
    """Periods the publisher offers (discovered on its pages or known URLs), plus periods already cached."""
    entry = entry_for(dataset, product)
    if entry is None:
        return []
    if entry.period_kind == CURRENT:
        return [CURRENT]
    offered = discover(entry, source).periods()
    return sorted(offered | cache.periods(source.raw_dir, dataset, product, _role(entry)))


def web_fetch(source: FetchSettings, dataset: str, product: str, period: str) -> SourceFile:
    """A verified local copy of the publisher's file for `period`, with its provenance.

    Raises SourceUnavailableError when the publisher has no file for the period (not listed, HTTP 404)
    and DownloadError when a download fails or its bytes fail a check, naming the URL and the problem.
    """
    entry = entry_for(dataset, product)
    if entry is None:
        raise SourceUnavailableError(
            f"{dataset}/{product} has no web source in data/reference/source_catalogue.csv "
            "(it is only in the bundled snapshot)"
        )
    if entry.period_kind == CURRENT and period != CURRENT:
        return _dated_copy(entry, source, period)
    obtained, origin = _obtain(entry, source, period, discover(entry, source))
    if entry.member_pattern is not None:
        obtained = _member(entry, source, period, obtained)
    return _source_file(entry, obtained, origin, period)


def _dated_copy(entry: CatalogueEntry, source: FetchSettings, period: str) -> SourceFile:
    """A 'current'-only product asked for a dated vintage: only the cached copy of that day can answer."""
    cached = cache.find(source.raw_dir, entry.dataset, entry.product, CURRENT)
    if cached is not None and cached.fetched_at[:10] == period:
        return _source_file(entry, cached, "cache", CURRENT)
    raise SourceUnavailableError(
        f"{entry.dataset}/{entry.product} is published only as the current file; "
        f"no copy downloaded on {period} is cached (ask for period 'current')"
    )


def _obtain(entry: CatalogueEntry, source: FetchSettings, period: str, discovery: Discovery) -> tuple[CachedFile, str]:
    cached = cache.find(source.raw_dir, entry.dataset, entry.product, period)
    candidates = discovery.for_period(period)
    if not candidates:
        if cached is not None and not discovery.complete:
            log.warning(f"{entry.dataset}/{entry.product} {period}: {discovery.problems[0]}; {cached.age_note()}")
            return cached, "cache"
        pages = ", ".join(entry.landing_pages) or "no landing page"
        raise SourceUnavailableError(
            f"the publisher lists no {entry.dataset}/{entry.product} file for {period} "
            f"(looked on {pages} and in data/reference/source_known_urls.csv)"
        )
    not_found: list[str] = []
    for candidate in candidates:
        try:
            return _download(entry, source, period, candidate, cached)
        except SourceUnavailableError as error:
            not_found.append(str(error))
        except DownloadError as error:
            if error.transient and cached is not None:
                log.warning(f"{error}; {cached.age_note()}")
                return cached, "cache"
            raise
    raise SourceUnavailableError(f"no {entry.dataset}/{entry.product} file for {period}: " + "; ".join(not_found))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _download(
    entry: CatalogueEntry, source: FetchSettings, period: str, candidate: Candidate, cached: CachedFile | None
) -> tuple[CachedFile, str]:
    directory = cache.dataset_dir(source.raw_dir, entry.dataset)
    name = entry.cache_name_for(candidate.url)
    destination = directory / name
    same_file = cached is not None and cached.path == destination and cached.meta.get("source_url") == candidate.url
    validators = cached.meta if same_file and cached is not None else {}
    result = download(
        candidate.url,
        directory,
        entry.download_kind,
        source,
        name=name,
        etag=validators.get("etag", ""),
        last_modified=validators.get("last_modified", ""),
    )
    if isinstance(result, NotModified):
        assert cached is not None
        return cache.update_sidecar(cached, checked_at=_now()), "web"
    if cached is not None and cached.path == destination and cached.sha256 == result.sha256:
        result.temp_path.unlink(missing_ok=True)
        confirmed = {"checked_at": result.fetched_at, "source_url": candidate.url, "final_url": result.final_url}
        return cache.update_sidecar(cached, **confirmed, found_on=candidate.found_on), "web"
    meta: dict[str, Any] = {
        "dataset": entry.dataset,
        "product": entry.product,
        "period": period,
        "role": "download",
        "file": name,
        "source_url": candidate.url,
        "final_url": result.final_url,
        "found_on": candidate.found_on,
        "fetched_at": result.fetched_at,
        "checked_at": result.fetched_at,
        "bytes": result.bytes,
        "sha256": result.sha256,
        "content_type": result.content_type,
        "etag": result.etag,
        "last_modified": result.last_modified,
    }
    if cached is not None:
        meta |= {"previous_sha256": cached.sha256, "previous_fetched_at": cached.fetched_at}
        if cached.path != destination:
            meta["replaces"] = cached.path.name
        log.info(
            "%s/%s %s: the publisher's file changed (sha256 %s… → %s…); cache updated",
            entry.dataset,
            entry.product,
            period,
            cached.sha256[:12],
            result.sha256[:12],
        )
    committed = cache.commit(result.temp_path, destination, meta)
    if cached is not None and cached.path != destination:
        cache.remove(cached)
    return committed, "web"


def _member(entry: CatalogueEntry, source: FetchSettings, period: str, archive: CachedFile) -> CachedFile:
    """The archive member the catalogue names (e.g. the organisational results workbook), unpacked safely."""
    assert entry.member_pattern is not None
    members = [m for m in safe_members(archive.path) if entry.member_pattern.search(m)]
    if len(members) != 1:
        raise InputDataError(
            f"expected exactly one member matching {entry.member_pattern.pattern!r}, found {members or 'none'}",
            file=archive.path,
        )
    member = members[0]
    destination = archive.path.parent / PurePosixPath(member.replace("\\", "/")).name
    existing = cache.find(source.raw_dir, entry.dataset, entry.product, period, role="member")
    if (
        existing is not None
        and existing.path == destination
        and existing.meta.get("archive_sha256") == archive.sha256
        and existing.meta.get("member") == member
    ):
        return existing
    temp = destination.with_name(f".{destination.name}.unpacked")
    extract_member(archive.path, member, temp)
    meta: dict[str, Any] = {
        **{k: archive.meta.get(k) for k in ("dataset", "source_url", "final_url", "found_on", "fetched_at")},
        "product": entry.product,
        "period": period,
        "role": "member",
        "file": destination.name,
        "checked_at": _now(),
        "bytes": temp.stat().st_size,
        "sha256": sha256_of(temp),
        "content_type": MEMBER_CONTENT_TYPES.get(destination.suffix.lower(), "application/octet-stream"),
        "archive": archive.path.name,
        "archive_sha256": archive.sha256,
        "member": member,
    }
    if existing is not None and existing.sha256 != meta["sha256"]:
        meta |= {"previous_sha256": existing.sha256, "previous_fetched_at": existing.fetched_at}
    committed = cache.commit(temp, destination, meta)
    if existing is not None and existing.path != destination:
        cache.remove(existing)
    return committed


def _source_file(entry: CatalogueEntry, cached: CachedFile, origin: str, period: str) -> SourceFile:
    meta = cached.meta
    # a 'current'-only product is labelled with the day it was downloaded: that is its vintage
    label = meta["fetched_at"][:10] if entry.period_kind == CURRENT else period
    return SourceFile(
        dataset=entry.dataset,
        product=entry.product,
        period=label,
        path=Path(cached.path),
        official_name=meta["file"],
        url=meta["source_url"],
        sha256=meta["sha256"],
        bytes=int(meta["bytes"]),
        fetched_at=meta["fetched_at"],
        origin=origin,
    )
