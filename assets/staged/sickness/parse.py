"""Parser for the monthly NHS Sickness Absence Rates CSV (one row per organisation, all staff groups).

Two layouts: the current upper-case one (`DATE` as dd/mm/yyyy, `FTE_DAYS_LOST`, `FTE_DAYS_AVAILABLE`,
`SICKNESS_ABSENCE_RATE_PERCENT`) and the older one with `SA Rate (%)` and `YYYY-MON` dates. The rate is
recomputed from the FTE columns: the published one is rounded (so a rate column written as fractions of 1
changes nothing).
"""

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl

from assets.staged.files import csv_records
from assets.staged.performance.measures import (
    ParsedMonth,
    counts,
    finish,
    no_totals,
    percent_rows,
    require_within,
)
from pipeline.errors import InputDataError

# canonical column → accepted header spellings (compared case-insensitively, trimmed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("DATE", "Month", "Date"),
    "reported_org_code": ("ORG_CODE", "Org Code"),
    "reported_org_name": ("ORG_NAME", "Org Name"),
    "fte_days_lost": ("FTE_DAYS_LOST", "FTE Days Lost", "FTE Days Sick"),
    "fte_days_available": ("FTE_DAYS_AVAILABLE", "FTE Days Available"),
    "published_rate": ("SICKNESS_ABSENCE_RATE_PERCENT", "SA Rate (%)"),
}
OLD_DATE = re.compile(r"^(\d{4})-([A-Za-z]{3})$")


def _month_of(text: str) -> date | None:
    text = text.strip()
    match = OLD_DATE.match(text)
    try:
        if match:  # older layout: 2019-JAN
            return datetime.strptime(f"{match.group(1)}-{match.group(2).title()}", "%Y-%b").date()
        return datetime.strptime(text, "%d/%m/%Y").date().replace(day=1)
    except ValueError:
        return None


def parse_sickness_csv(path: Path, month: date, official_name: str | None = None) -> ParsedMonth:
    """Provider measure sickness_absence_pct = FTE days lost ÷ FTE days available × 100. No total row."""
    records = csv_records(path)
    (_, header), body = records[0], records[1:]
    if not body:
        raise InputDataError("the file has no data rows", file=path)
    names = [name.strip().lower() for name in header]
    selected: dict[str, str] = {}
    position: dict[str, int] = {}
    for canonical, spellings in COLUMNS.items():
        found = next((s for s in spellings if s.lower() in names), None)
        if found is None:
            raise InputDataError(f"header has no {spellings[0]!r} column", file=path, row=1, column=spellings[0])
        if names.count(found.lower()) > 1:
            raise InputDataError("the header repeats this column", file=path, row=1, column=found)
        position[canonical] = names.index(found.lower())
        selected[canonical] = header[position[canonical]].strip()
    for number, row in body:
        if len(row) != len(header):
            raise InputDataError(f"has {len(row)} columns, the header has {len(header)}", file=path, row=number)
    frame = pl.DataFrame(
        {
            **{c: [row[i].strip() for _, row in body] for c, i in position.items()},
            "source_row": [number for number, _ in body],
        },
        schema={**dict.fromkeys(position, pl.String), "source_row": pl.Int64},
    )
    for row in frame.select("date", "source_row").iter_rows(named=True):
        if _month_of(row["date"] or "") != month:
            raise InputDataError(
                f"date {row['date']!r} is not in the data month {month:%B %Y} this file was loaded for",
                file=path,
                row=row["source_row"],
                column=selected["date"],
            )
    frame = counts(
        frame,
        {"fte_days_lost": selected["fte_days_lost"], "fte_days_available": selected["fte_days_available"]},
        file=path,
        step=None,
    )
    require_within(
        frame, "fte_days_lost", "fte_days_available", file=path, column=selected["fte_days_lost"], what="FTE days lost"
    )
    duplicated = frame.filter(pl.col("reported_org_code").is_duplicated())
    if duplicated.height:
        last = duplicated.row(-1, named=True)
        raise InputDataError(
            f"organisation {last['reported_org_code']} appears more than once",
            file=path,
            row=last["source_row"],
            column=selected["reported_org_code"],
        )
    measures = finish(
        [percent_rows(frame, "sickness_absence_pct", pl.col("fte_days_lost"), pl.col("fte_days_available"))],
        source_file=official_name or path.name,
    )
    return ParsedMonth(measures=measures, file_totals=no_totals())
