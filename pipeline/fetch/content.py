"""What a downloaded file must look like before it may enter the cache.

An HTML error page is never accepted as a data file, whatever its name or Content-Type claims.
"""

from pathlib import Path

from pipeline.fetch.zipsafe import UnsafeArchiveError, safe_members

ZIP_MAGIC = b"PK\x03\x04"
HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title")
# Content-Types publishers use for these files; anything else (above all text/html) is refused.
ACCEPTED_TYPES = {
    "zip": {"application/zip", "application/x-zip-compressed", "application/x-zip", "multipart/x-zip"},
    "xlsx": {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/excel",
        "application/x-excel",
        "application/zip",
    },
    "csv": {"text/csv", "text/plain", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"},
}
KIND_LABELS = {"zip": "a zip archive", "xlsx": "an Excel workbook (.xlsx)", "csv": "a CSV file"}
GENERIC_TYPES = {
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "application/download",
    "application/force-download",
}


class ContentError(ValueError):
    """The bytes are not the kind of file expected."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def check_content_type(content_type: str | None, kind: str) -> None:
    media = media_type(content_type)
    if media == "text/html" or media == "application/xhtml+xml":
        raise ContentError(f"the server sent an HTML page (Content-Type {media}) instead of {KIND_LABELS[kind]}")
    if media not in GENERIC_TYPES and media not in ACCEPTED_TYPES[kind]:
        raise ContentError(f"unexpected Content-Type {media!r} for {KIND_LABELS[kind]}")


def looks_like_html(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<") or any(marker in text[:4096] for marker in HTML_MARKERS)


def check_file(path: Path, kind: str) -> None:
    """Magic-byte and structure checks; raises ContentError saying what the file is instead."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head:
        raise ContentError("the body is empty (0 bytes)")
    if kind in ("zip", "xlsx"):
        if not head.startswith(ZIP_MAGIC):
            what = "an HTML page" if looks_like_html(head) else f"data starting {head[:8]!r}"
            raise ContentError(f"expected {KIND_LABELS[kind]} (zip signature PK\\x03\\x04) but got {what}")
        try:
            members = safe_members(path)
        except UnsafeArchiveError as error:
            raise ContentError(error.problem) from None
        if kind == "xlsx" and "[Content_Types].xml" not in members:
            raise ContentError("a zip archive but not an Excel workbook (no [Content_Types].xml)")
        return
    if looks_like_html(head):
        raise ContentError("expected a CSV file but got an HTML page")
    if head.startswith(ZIP_MAGIC):
        raise ContentError("expected a CSV file but got a zip archive")
    if b"\x00" in head:
        raise ContentError("expected a CSV file but got binary data (NUL bytes)")
