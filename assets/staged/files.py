"""Opening source files the same careful way in every staged parser.

Servers and downloads break files in a few recurring ways: an empty file, an HTML error page saved under the
data file's name, a transfer cut short, a byte-order mark or Windows line endings, counts written with
thousands separators, suppressed cells spelled a new way. Each is recognised here, before a parser reads a
value, and anything unusable raises an InputDataError naming the file (and the row where there is one).
"""

import csv
import io
import zipfile
from functools import cache
from pathlib import Path

import fastexcel
import polars as pl

from pipeline.errors import InputDataError
from pipeline.fetch.content import ZIP_MAGIC, looks_like_html
from pipeline.fetch.zipsafe import safe_members
from pipeline.reference import read_reference

# 1,234 or 1,234,567.89: commas only between groups of three digits, so "1,2" or "12,34" stay errors
THOUSANDS_SEPARATED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
HEAD_BYTES = 8192


def column_letter(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 27 → AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _unusable(data: bytes, expected: str) -> str | None:
    if not data.strip():
        return "the file is empty" + (" (0 bytes)" if not data else " (only blank space)")
    if looks_like_html(data[:HEAD_BYTES]):
        return f"is an HTML/XML page, not {expected} (an error page saved under the file's name?)"
    return None


def read_csv_text(path: Path) -> str:
    """The text of a CSV file, without a byte-order mark; refuses an empty, HTML, binary or cut-short file."""
    data = path.read_bytes()
    problem = _unusable(data, "a CSV file")
    if problem:
        raise InputDataError(problem, file=path)
    if data.startswith(ZIP_MAGIC):
        raise InputDataError("is a zip archive or Excel workbook, not a CSV file", file=path)
    if b"\x00" in data[:HEAD_BYTES]:
        raise InputDataError("holds binary data (NUL bytes), not CSV text", file=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # what Excel's "CSV" export writes on Windows
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise InputDataError(f"is neither UTF-8 nor Windows-1252 text ({error.reason})", file=path) from None
    _require_complete_last_line(text, path)
    return text


def _require_complete_last_line(text: str, path: Path) -> None:
    """A file cut off mid-row ends without a line break in a row shorter than the first one."""
    if text.endswith(("\n", "\r")):
        return
    lines = text.splitlines()
    if len(lines) < 2:
        return
    first, last = next(csv.reader([lines[0]])), next(csv.reader([lines[-1]]), [])
    if len(last) < len(first):
        raise InputDataError(
            f"the last line has {len(last)} of {len(first)} fields and no line break: the file was cut short "
            "(a truncated download?)",
            file=path,
            row=len(lines),
        )


def csv_records(path: Path) -> list[tuple[int, list[str]]]:
    """Every non-blank CSV row with its line number in the file (blank rows are skipped, not renumbered)."""
    reader = csv.reader(io.StringIO(read_csv_text(path), newline=""))
    return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]


def repeated_header(header: list[str], wanted: list[str]) -> str | None:
    """The first wanted column name that appears more than once in a header (its values would be ambiguous)."""
    names = [h.strip() for h in header]
    return next((name for name in wanted if names.count(name) > 1), None)


def open_excel(path: Path, data: bytes | None = None, name: str | None = None) -> fastexcel.ExcelReader:
    """An .xlsx workbook from `path`, or from `data` already unpacked out of the archive at `path` (called `name`).

    A workbook on disk is an archive itself, so it gets the same zip-bomb and path checks as any zip."""
    label = name or path
    if data is None:
        data = path.read_bytes()
        if data.startswith(ZIP_MAGIC) and zipfile.is_zipfile(path):  # an unreadable one is reported below
            safe_members(path)
    problem = _unusable(data, "an Excel workbook")
    if problem:
        raise InputDataError(problem, file=label)
    if not data.startswith(ZIP_MAGIC):
        raise InputDataError(
            f"is not an Excel workbook (.xlsx files start with PK; this starts {data[:8]!r})", file=label
        )
    try:
        return fastexcel.read_excel(data)
    except Exception as error:  # calamine raises its own exception types for every unreadable file
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputDataError(
            f"not a readable Excel workbook (truncated or corrupt?): {first_line}", file=label
        ) from None


def zip_members(path: Path) -> list[str]:
    """The safe members of a zip archive (pipeline.fetch.zipsafe: no path traversal, links or zip bombs)."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    problem = _unusable(head, "a zip archive")
    if problem:
        raise InputDataError(problem, file=path)
    return safe_members(path)


def as_number(text: pl.Expr) -> pl.Expr:
    """A text cell as a number, `1,234` (thousands separators) included; null where the text is not a number."""
    return (
        pl.when(text.str.contains(THOUSANDS_SEPARATED))
        .then(text.str.replace_all(",", "", literal=True))
        .otherwise(text)
        .cast(pl.Float64, strict=False)
    )


def unreadable_number(text: pl.Expr, number: pl.Expr) -> pl.Expr:
    """A cell whose text (`number` = `as_number(text)`) is neither a number, blank nor a suppression marker."""
    return number.is_null() & text.is_not_null() & (text != "") & ~is_suppressed(text)


@cache
def _suppression_markers() -> tuple[list[str], str]:
    markers = read_reference("suppression_markers")
    exact = markers.filter(pl.col("match") == "exact")["marker"].str.to_lowercase().to_list()
    patterns = markers.filter(pl.col("match") == "pattern")["marker"].to_list()
    return exact, "|".join(f"(?:{p})" for p in patterns)


def is_suppressed(text: pl.Expr) -> pl.Expr:
    """Whether a cell is a suppression or missing-value marker (data/reference/suppression_markers.csv)."""
    exact, patterns = _suppression_markers()
    normalised = text.str.strip_chars().str.to_lowercase()
    matched = normalised.is_in(exact)
    if patterns:
        matched = matched | normalised.str.contains(f"^(?:{patterns})$")
    return matched.fill_null(False)
