"""Helpers for the staff survey tests: synthetic workbooks in the documented layouts, and broken copies of real files.

Every workbook `write_workbook` makes is SYNTHETIC: invented numbers, built only to exercise parser edge cases.
"""

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

SYNTHETIC_NOTE = "SYNTHETIC TEST FIXTURE - invented numbers, not NHS data"
ID_HEADER_2021 = ["ODS code", "Organisation name", "Benchmarking group", "Region", "ICS/STP", "Weighting"]


def write_workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    notes = workbook.create_sheet("Notes")
    notes.append([SYNTHETIC_NOTE])
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def question_sheet(
    year: int,
    sheet_title: str,
    blocks: list[tuple[str, list[str]]],
    rows: list[list[object]],
    id_header: list[str] = ID_HEADER_2021,
) -> list[list[object]]:
    """Rows 1-5 of a detailed-spreadsheet question sheet, then the data rows (layout of data-sources.md §3.4)."""
    labels: list[object] = [f"NHS Staff Survey {year} - WEIGHTED Results", None, None, None, None, None]
    header: list[object] = list(id_header)
    for label, options in blocks:
        labels += [label] + [None] * len(options)
        header += [f"% {o}" for o in options] + ["Base (number of responses)"]
    return [labels, [sheet_title], [SYNTHETIC_NOTE], [], header, *rows]


def score_sheet(year: int, measures: list[tuple[str, str]], rows: list[list[object]]) -> list[list[object]]:
    labels: list[object] = [f"NHS Staff Survey {year} - WEIGHTED Results", None, None, None, None, None]
    header: list[object] = list(ID_HEADER_2021)
    for code, name in measures:
        labels += [f"{code} - {name}", None]
        header += [f"{code} - score", "Base (number of responses)"]
    return [labels, ["PEOPLE PROMISE ELEMENTS"], [SYNTHETIC_NOTE], [], header, *rows]


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → XML member of an xlsx."""
    workbook = archive.read("xl/workbook.xml").decode()
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'<Relationship[^>]*Id="([^"]+)"[^>]*Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'<Relationship[^>]*Target="([^"]+)"[^>]*Id="([^"]+)"', rels)}
    sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook)
    return {name.replace("&amp;", "&"): "xl/" + targets[rid].removeprefix("/xl/") for name, rid in sheets}


def edited_xlsx(source: Path, target: Path, edit: Callable[[str, str], str], sheet: str | None = None) -> Path:
    """Copy an xlsx, passing sharedStrings.xml (sheet=None) or one sheet's XML through `edit(member, text)`."""
    with zipfile.ZipFile(source) as original:
        member = "xl/sharedStrings.xml" if sheet is None else _sheet_paths(original)[sheet]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in original.infolist():
                data = original.read(item.filename)
                if item.filename == member:
                    data = edit(member, data.decode("utf-8")).encode("utf-8")
                copy.writestr(item, data)
    target.write_bytes(buffer.getvalue())
    return target
