"""Parser for the RTT full CSV extract: one zip holding one large CSV (about 80 MB, 180,000 rows).

The CSV is streamed out of the zip in blocks, never unpacked to disk. Only the few lines that can hold
incomplete pathways for all treatment functions (`Part_2`, `C_999`, about one line in fourteen) are kept
by a byte search, each prefixed with its line number in the file, and then parsed by a real CSV parser
(names contain quoted commas) and filtered exactly on the parsed fields.
"""

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import polars as pl

from assets.staged.performance.measures import (
    ParsedMonth,
    count_rows,
    counts,
    finish,
    no_totals,
    percent_rows,
    require_within,
)
from pipeline.errors import InputDataError

INCOMPLETE, ALL_FUNCTIONS = "Part_2", "C_999"
ID_COLUMNS = {
    "period": "Period",
    "reported_org_code": "Provider Org Code",
    "reported_org_name": "Provider Org Name",
    "part": "RTT Part Type",
    "function": "Treatment Function Code",
    "total_all": "Total All",
}
BUCKET = re.compile(r"^Gt (\d+)(?: To (\d+))? Weeks SUM 1$")
BLOCK_BYTES = 8 << 20
# the part as a whole field, quoted or not (Part_2A, incomplete pathways with a decision to admit, is not wanted)
WANTED_PART = (b",Part_2,", b',"Part_2",')


def csv_member(archive: zipfile.ZipFile, path: Path) -> str:
    """The one CSV in the zip, ignoring macOS resource-fork entries (`__MACOSX/…`)."""
    names = [n for n in archive.namelist() if n.lower().endswith(".csv") and not n.startswith("__MACOSX/")]
    if len(names) != 1:
        raise InputDataError(f"expected one CSV in the zip, found {len(names)}: {names[:3]}", file=path)
    return names[0]


def _candidate_lines(stream: io.BufferedIOBase) -> Iterator[bytes]:
    """Lines that mention both C_999 and Part_2 (a superset of the rows wanted), as `<line number>,<line>`.

    C_999 is searched first: it is on one line in thirteen, Part_2 (with Part_2A) on two in five."""
    line_number, carry = 1, b""  # the header is line 1
    while block := stream.read(BLOCK_BYTES):
        block = carry + block
        end = block.rfind(b"\n") + 1
        block, carry = block[:end], block[end:]
        start = counted_to = 0
        while (hit := block.find(ALL_FUNCTIONS.encode(), start)) >= 0:
            line_start = block.rfind(b"\n", 0, hit) + 1
            line_end = block.find(b"\n", hit) + 1
            line = block[line_start:line_end]
            if WANTED_PART[0] in line or WANTED_PART[1] in line:
                # count newlines only since the previous hit: counting from the block start each time is quadratic
                line_number += block.count(b"\n", counted_to, line_start)
                counted_to = line_start
                yield b"%d," % (line_number + 1) + line.rstrip(b"\r\n") + b"\n"
            start = line_end
        line_number += block.count(b"\n", counted_to)
    if carry.strip() and any(part in carry for part in WANTED_PART) and ALL_FUNCTIONS.encode() in carry:
        yield b"%d," % (line_number + 1) + carry.rstrip(b"\r\n") + b"\n"


def read_incomplete_rows(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Part_2 / C_999 rows (one per provider and commissioner) as text, with `source_row`, and the header."""
    with zipfile.ZipFile(path) as archive, archive.open(csv_member(archive, path)) as stream:
        header_line = stream.readline().decode("utf-8-sig").rstrip("\r\n")
        lines = b"".join(_candidate_lines(stream))
    header = next(iter(pl.read_csv(io.StringIO(header_line + "\n"), infer_schema=False, has_header=False).rows()))
    header = [h.strip() for h in header]
    missing = [h for h in ID_COLUMNS.values() if h not in header]
    if missing:
        raise InputDataError(f"header has no {missing[0]!r} column", file=path, row=1, column=missing[0])
    if len(set(header)) != len(header):
        raise InputDataError("header repeats a column name", file=path, row=1)
    frame = (
        pl.read_csv(
            io.BytesIO(lines),
            has_header=False,
            new_columns=["source_row", *header],
            schema_overrides={"source_row": pl.Int64},
            infer_schema=False,
        )
        if lines
        else pl.DataFrame(schema={"source_row": pl.Int64, **{h: pl.String for h in header}})
    )
    frame = frame.filter(
        (pl.col(ID_COLUMNS["part"]).str.strip_chars() == INCOMPLETE)
        & (pl.col(ID_COLUMNS["function"]).str.strip_chars() == ALL_FUNCTIONS)
    )
    return frame, header


def weekly_buckets(header: list[str]) -> dict[str, int]:
    """Weekly bucket columns → lower bound in weeks (`Gt 17 To 18 Weeks SUM 1` → 17, `Gt 104 Weeks SUM 1` → 104)."""
    return {name: int(m.group(1)) for name in header if (m := BUCKET.match(name))}


def data_month(period_text: str) -> date | None:
    """`RTT-April-2026` → 2026-04-01."""
    try:
        return datetime.strptime(period_text.strip().removeprefix("RTT-"), "%B-%Y").date()
    except ValueError:
        return None


def parse_rtt_zip(path: Path, month: date, official_name: str | None = None) -> ParsedMonth:
    """Provider measures rtt_incomplete, rtt_within_18w_pct and rtt_52w_plus, summed over commissioners."""
    frame, header = read_incomplete_rows(path)
    buckets = weekly_buckets(header)
    within_18 = [name for name, low in buckets.items() if low < 18]
    over_52 = [name for name, low in buckets.items() if low >= 52]
    if len(within_18) != 18 or not over_52:
        raise InputDataError(
            "header lacks the weekly bucket columns 'Gt 00 To 01 Weeks SUM 1' … 'Gt 52 To 53 Weeks SUM 1'",
            file=path,
            row=1,
            column="Gt 00 To 01 Weeks SUM 1",
        )
    if frame.is_empty():
        raise InputDataError("no Part_2 / C_999 (incomplete pathways, all functions) rows", file=path)
    months = {text: data_month(text) for text in frame["Period"].unique()}
    bad_period = frame.filter(pl.col("Period").is_in([t for t, m in months.items() if m != month]))
    if bad_period.height:
        first = bad_period.row(0, named=True)
        raise InputDataError(
            f"period {first['Period']!r} is not the data month {month:%B %Y} this file was loaded for",
            file=path,
            row=first["source_row"],
            column="Period",
        )
    frame = counts(frame, {name: name for name in [*within_18, *over_52, ID_COLUMNS["total_all"]]}, file=path)
    frame = frame.select(
        "source_row",
        pl.col(ID_COLUMNS["reported_org_code"]).str.strip_chars().alias("reported_org_code"),
        pl.col(ID_COLUMNS["reported_org_name"]).str.strip_chars().alias("reported_org_name"),
        pl.col(ID_COLUMNS["total_all"]).alias("total_all"),
        pl.sum_horizontal(within_18).alias("within_18"),
        pl.sum_horizontal(over_52).alias("over_52"),
    )
    require_within(
        frame, "within_18", "total_all", file=path, column="Gt 17 To 18 Weeks SUM 1", what="pathways within 18 weeks"
    )
    require_within(
        frame, "over_52", "total_all", file=path, column="Gt 52 To 53 Weeks SUM 1", what="pathways over 52 weeks"
    )
    providers = frame.group_by("reported_org_code").agg(
        pl.col("reported_org_name").first(),
        pl.col("source_row").min(),
        pl.col("total_all", "within_18", "over_52").sum(),
    )
    measures = finish(
        [
            count_rows(providers, "rtt_incomplete", pl.col("total_all")),
            percent_rows(providers, "rtt_within_18w_pct", pl.col("within_18"), pl.col("total_all")),
            count_rows(providers, "rtt_52w_plus", pl.col("over_52")),
        ],
        source_file=official_name or path.name,
    )
    return ParsedMonth(measures=measures.sort("reported_org_code", "measure"), file_totals=no_totals())
