"""Ways to break a copy of a real file, as servers, downloads and spreadsheets do.

Every broken file is made in a temporary folder from the real copies in data/snapshot/ and never committed.
Where a breaker writes content of its own (an HTML error page, padding in a zip bomb) it is SYNTHETIC and says so.
"""

import csv
import io
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from pipeline.settings import SNAPSHOT_DIR

# SYNTHETIC: the kind of page a web server returns in place of the file (here a 503 from a proxy)
ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1><p>SYNTHETIC TEST FIXTURE: the server is temporarily unable to service "
    b"your request.</p></body></html>\n"
)
BOM = b"\xef\xbb\xbf"


def real(relative: str) -> Path:
    return SNAPSHOT_DIR / relative


def copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def lines_edited(
    source: Path, target: Path, edit: Callable[[list[str]], list[str]], newline: str | None = None
) -> Path:
    """A copy with its lines edited; the file's own line ending is kept unless `newline` is given."""
    text = source.read_bytes().decode("utf-8")
    ending = newline or ("\r\n" if "\r\n" in text else "\n")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes((ending.join(edit(text.splitlines())) + ending).encode("utf-8"))
    return target


def bytes_written(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def truncated(source: Path, target: Path, fraction: float) -> Path:
    """The first `fraction` of the file's bytes, as a download cut short leaves it."""
    data = source.read_bytes()
    return bytes_written(target, data[: int(len(data) * fraction)])


def byte_flipped_in_member(source: Path, target: Path, member: str) -> Path:
    """A zip whose directory is intact but one byte in the middle of `member`'s packed data is flipped, as a bad
    disk or a faulty proxy leaves it: the member no longer inflates, or fails its CRC."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    data[info.header_offset + 30 + name_length + extra_length + info.compress_size // 2] ^= 0xFF
    return bytes_written(target, bytes(data))


def cut_mid_line(source: Path, target: Path, line: int) -> Path:
    """The file up to the middle of line `line` (1-based): the transfer broke off inside a row."""
    data = source.read_bytes()
    starts = [0, *(m.end() for m in re.finditer(rb"\n", data))]
    start, end = starts[line - 1], starts[line]
    return bytes_written(target, data[: start + (end - start) // 2])


def bom_and_crlf(source: Path, target: Path) -> Path:
    """The same text with a UTF-8 byte-order mark and Windows line endings (as Excel saves a CSV)."""
    text = source.read_bytes().decode("utf-8").replace("\r\n", "\n")
    return bytes_written(target, BOM + text.replace("\n", "\r\n").encode("utf-8"))


def fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def joined(cells: list[str]) -> str:
    """One CSV line, quoting only the fields that need it (as the publishers' files do)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


def set_field(line: str, column: int, value: str) -> str:
    """The line with its `column`-th (1-based) field replaced."""
    cells = fields(line)
    cells[column - 1] = value
    return joined(cells)


def without_field(line: str, column: int) -> str:
    cells = fields(line)
    del cells[column - 1]
    return joined(cells)


def thousands(number: str) -> str:
    """'12092' → '12,092' (set_field quotes it, as a CSV must quote a comma)."""
    whole, dot, fraction = number.partition(".")
    return f"{int(whole):,}{dot}{fraction}"


# --- xlsx: edit the XML parts of a real workbook, keeping everything else byte for byte -------------------------


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    workbook = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = {}
    for attributes in re.findall(r"<Relationship ([^>]*)/?>", rels):
        found = dict(re.findall(r'(\w+)="([^"]*)"', attributes))
        targets[found["Id"]] = "xl/" + found["Target"].removeprefix("/xl/")
    return {
        name.replace("&amp;", "&"): targets[rid]
        for name, rid in re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook)
    }


def xlsx_edited(
    source: Path,
    target: Path,
    cells: dict[str, dict[str, str | float]] | None = None,
    rename_sheets: dict[str, str] | None = None,
    shared_strings: Callable[[str], str] | None = None,
) -> Path:
    """A copy of a real workbook with some cells replaced (text as inline strings, numbers as numbers), some
    sheets renamed and/or its shared strings passed through a function."""
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        parts = {info.filename: archive.read(info.filename) for info in infos}
    sheets = _sheet_parts(parts)
    for sheet, edits in (cells or {}).items():
        xml = parts[sheets[sheet]].decode()
        for cell, value in edits.items():
            replacement = (
                f'<c r="{cell}"><v>{value}</v></c>'
                if isinstance(value, int | float)
                else f'<c r="{cell}" t="inlineStr"><is><t>{value}</t></is></c>'
            )
            xml, count = re.subn(rf'<c r="{cell}"(?: [^>]*)?(?:/>|>.*?</c>)', replacement, xml, count=1)
            assert count == 1, f"cell {cell} not found in {sheet}"
        parts[sheets[sheet]] = xml.encode()
    for old, new in (rename_sheets or {}).items():
        workbook = parts["xl/workbook.xml"].decode()
        escaped_old, escaped_new = old.replace("&", "&amp;"), new.replace("&", "&amp;")
        assert f'name="{escaped_old}"' in workbook, f"no sheet {old}"
        parts["xl/workbook.xml"] = workbook.replace(f'name="{escaped_old}"', f'name="{escaped_new}"').encode()
    if shared_strings:
        parts["xl/sharedStrings.xml"] = shared_strings(parts["xl/sharedStrings.xml"].decode()).encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for info in infos:
            archive.writestr(info, parts[info.filename])
    return target


def cell_text(source: Path, sheet: str, cells: list[str]) -> dict[str, str]:
    """Values of cells as the parser sees them (text), to build edits that keep the real numbers."""
    import fastexcel

    frame = fastexcel.read_excel(source).load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    out = {}
    for cell in cells:
        letters, digits = re.match(r"([A-Z]+)(\d+)", cell).groups()
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        out[cell] = frame.row(int(digits) - 1)[index - 1]
    return out


# --- zips ---------------------------------------------------------------------------------------------------------


def zip_of(target: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return bytes_written(target, buffer.getvalue())
