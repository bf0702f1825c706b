"""Parser for the RTT full CSV extract: one zip holding one large CSV (about 80 MB, 180,000 rows).

The CSV is streamed out of the zip block by block (inflated with ISA-L), never unpacked to disk. Each block
is searched line by line by Polars for the lines that can hold incomplete pathways for all treatment
functions (`Part_2`, `C_999`: one line in fourteen), each kept with its line number in the file; only those
are parsed by a real CSV parser (names contain quoted commas), with the counts read as integers, and filtered
exactly on the parsed fields. bench/rtt_parse.py times it against pandas.
"""

import csv
import re
import struct
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import polars as pl
from isal import isal_zlib

from assets.staged.files import zip_members
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
COMMISSIONER = "Commissioner Org Code"
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
WANTED_PART = r'(?:^|,)"?Part_2"?(?:,|$)'
COMPRESSED_BLOCK_BYTES = 1 << 20
# a byte that never occurs in the extract: each line is read as one text column
UNUSED_SEPARATOR = "\x1f"


def csv_member(path: Path) -> str:
    """The one CSV in the zip, after the archive passed the safety checks (no path traversal, links or zip bombs;
    macOS resource-fork entries `__MACOSX/…` ignored)."""
    names = [n for n in zip_members(path) if n.lower().endswith(".csv")]
    if len(names) != 1:
        raise InputDataError(f"expected one CSV in the zip, found {len(names)}: {names[:3]}", file=path)
    return names[0]


def member_blocks(path: Path) -> Iterator[bytes]:
    """The CSV in the zip, decompressed block by block (never written to disk).

    A deflated member is inflated with ISA-L (about 2.5 times faster than zlib) and its CRC checked at the end;
    any other compression falls back to the standard library's zip reader."""
    member = csv_member(path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        if info.compress_type != zipfile.ZIP_DEFLATED:
            with archive.open(info) as stream:
                while block := stream.read(BLOCK_BYTES):
                    yield block
            return
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        local_header = handle.read(30)
        name_length, extra_length = struct.unpack("<HH", local_header[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        inflater, crc, remaining = isal_zlib.decompressobj(-15), 0, info.compress_size
        while remaining:
            compressed = handle.read(min(COMPRESSED_BLOCK_BYTES, remaining))
            if not compressed:
                break
            remaining -= len(compressed)
            block = inflater.decompress(compressed)
            crc = isal_zlib.crc32(block, crc)
            yield block
        block = inflater.flush()
        crc = isal_zlib.crc32(block, crc)
        yield block
    if crc != info.CRC or remaining:
        raise InputDataError(f"the zip member {info.filename} is truncated or corrupt (CRC mismatch)", file=path)


def _lines(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Blocks cut at line ends, so no line is split between two blocks (one copy of each block, not two)."""
    carry = b""
    for block in blocks:
        end = block.rfind(b"\n") + 1
        if not end:
            carry += block
            continue
        yield b"".join((carry, memoryview(block)[:end]))
        carry = block[end:]
    if carry.strip():
        yield carry + b"\n"


def _candidate_lines(blocks: Iterator[bytes], path: Path, first_line: int = 1) -> Iterator[pl.DataFrame]:
    """Lines that mention both C_999 and Part_2 as a whole field (a superset of the rows wanted), block by block,
    each with its line number in the file (`source_row`).

    Each block is split into lines and searched by Polars (one text column, no quoting), several times faster
    than a Python loop over the lines; the rows kept are parsed by a real CSV parser afterwards."""
    lines_before = first_line - 1
    for block in blocks:
        found, newlines = _search_block(block, lines_before, path)
        lines_before += newlines
        yield found


def _search_block(block: bytes, lines_before: int, path: Path) -> tuple[pl.DataFrame, int]:
    newlines = block.count(b"\n")
    if not newlines:
        return pl.DataFrame(schema={"source_row": pl.Int64, "line": pl.String}), 0
    lines = pl.read_csv(
        block,
        has_header=False,
        separator=UNUSED_SEPARATOR,
        quote_char=None,
        new_columns=["line"],
        schema={"line": pl.String},
    )
    if lines.height != newlines:  # a blank line would shift every line number after it
        raise InputDataError("has blank lines; line numbers could not be kept", file=path, row=lines_before + 1)
    line = pl.col("line")
    found = (
        lines.with_row_index("source_row", offset=lines_before + 1)
        .filter(line.str.contains(ALL_FUNCTIONS, literal=True))  # literal first: the regex then sees 1 line in 6
        .filter(line.str.contains(WANTED_PART))
        .select(pl.col("source_row").cast(pl.Int64), line.str.strip_suffix("\r"))
    )
    return found, newlines


def read_incomplete_rows(path: Path) -> tuple[pl.DataFrame, list[str]]:
    """Part_2 / C_999 rows (one per provider and commissioner) with `source_row` and numeric counts, and the header."""
    blocks = _lines(member_blocks(path))
    first = next(blocks, b"")
    header_line, _, rest = first.partition(b"\n")
    header_text = header_line.decode("utf-8-sig").rstrip("\r")
    header = [h.strip() for h in next(csv.reader([header_text]))] if header_text else []
    missing = [h for h in [*ID_COLUMNS.values(), COMMISSIONER] if h not in header]
    if missing:
        raise InputDataError(f"header has no {missing[0]!r} column", file=path, row=1, column=missing[0])
    if len(set(header)) != len(header):
        raise InputDataError("header repeats a column name", file=path, row=1)
    in_first, first_lines = _search_block(rest, 1, path)  # the header is line 1
    candidates = pl.concat([in_first, *_candidate_lines(blocks, path, first_line=first_lines + 2)])
    text = candidates.select(pl.format("{},{}", "source_row", "line")).to_series().str.join("\n").item()
    data = (",".join(f'"{h}"' for h in ["source_row", *header]) + "\n" + text + "\n").encode()
    return _typed_rows(data, header, path), header


def _wanted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(
        (pl.col(ID_COLUMNS["part"]).str.strip_chars() == INCOMPLETE)
        & (pl.col(ID_COLUMNS["function"]).str.strip_chars() == ALL_FUNCTIONS)
    )


def _typed_rows(data: bytes, header: list[str], path: Path) -> pl.DataFrame:
    """The wanted rows with their counts as numbers.

    Fast path: Polars parses the count columns as integers. Only when that fails, or finds an empty or negative
    count, are the rows read again as text and checked cell by cell, to name the row and column at fault."""
    counted = [*weekly_buckets(header), ID_COLUMNS["total_all"]]
    columns = ["source_row", *dict.fromkeys([*ID_COLUMNS.values(), COMMISSIONER, *counted])]
    try:
        frame = _wanted(
            pl.read_csv(
                data,
                columns=columns,
                schema_overrides={"source_row": pl.Int64, **dict.fromkeys(counted, pl.Int64)},
                infer_schema=False,
            )
        )
        suspect = frame.select(pl.any_horizontal([(pl.col(c).is_null() | (pl.col(c) < 0)).any() for c in counted]))
        clean = not suspect.item()
    except pl.exceptions.PolarsError:
        clean = False
    if not clean:
        text = _wanted(
            pl.read_csv(data, columns=columns, schema_overrides={"source_row": pl.Int64}, infer_schema=False)
        )
        frame = counts(text, {c: c for c in counted}, file=path)  # raises, naming the first bad cell
    return frame.with_columns(pl.col(counted).cast(pl.Float64))


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
    keys = [ID_COLUMNS["reported_org_code"], COMMISSIONER]
    repeated = frame.sort("source_row").filter(~pl.struct(keys).is_first_distinct())
    if repeated.height:  # rows are summed over commissioners, so a repeated row would be counted twice
        first = repeated.row(0, named=True)
        raise InputDataError(
            f"provider {first[keys[0]]} and commissioner {first[COMMISSIONER]} appear twice in the incomplete "
            "pathways rows",
            file=path,
            row=first["source_row"],
            column=COMMISSIONER,
        )
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
