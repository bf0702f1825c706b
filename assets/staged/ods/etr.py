"""Parser for the ODS `etr` NHS trusts file: 27 quoted columns, no header row."""

from pathlib import Path

import polars as pl

from assets.staged.files import csv_records
from pipeline.errors import InputDataError

ETR_COLUMNS = 27
# positions (0-based) from the ODS specification for `etrust` (data-sources.md §4.5)
CODE, NAME, REGION, ICB, POSTCODE, OPEN_DATE, CLOSE_DATE = 0, 1, 2, 3, 9, 10, 11
ORG_CODE_PATTERN = r"^[A-Z0-9]{3,6}$"


def parse_etr(path: Path, regions: pl.DataFrame) -> pl.DataFrame:
    """One row per trust code, open and closed, with region names and dates.

    Raises InputDataError for an empty file, a header row, a row with the wrong number of
    columns, a malformed code or date, or a duplicated code.
    """
    records = csv_records(path)
    if not records:
        raise InputDataError("the file is empty", file=path)
    rows = [row for _, row in records]
    if rows[0][CODE].strip().lower() in {"organisation code", "org code", "code"}:
        raise InputDataError("has a header row; the ODS etr export has none", file=path, row=records[0][0])
    for number, row in records:
        if len(row) != ETR_COLUMNS:
            raise InputDataError(
                f"has {len(row)} columns, expected {ETR_COLUMNS} (ODS etr layout)", file=path, row=number
            )
    frame = pl.DataFrame(
        {
            "org_code": [r[CODE].strip() for r in rows],
            "org_name": [r[NAME].strip() for r in rows],
            "region_code": [r[REGION].strip() or None for r in rows],
            "icb_code": [r[ICB].strip() or None for r in rows],
            "postcode": [r[POSTCODE].strip() or None for r in rows],
            "open_date_text": [r[OPEN_DATE].strip() for r in rows],
            "close_date_text": [r[CLOSE_DATE].strip() or None for r in rows],
        }
    ).with_columns(source_row=pl.Series([number for number, _ in records], dtype=pl.UInt32))
    bad_code = frame.filter(~pl.col("org_code").str.contains(ORG_CODE_PATTERN))
    if bad_code.height:
        first = bad_code.row(0, named=True)
        raise InputDataError(
            f"organisation code {first['org_code']!r} is not an ODS code",
            file=path,
            row=first["source_row"],
            column="Organisation Code (column 1)",
        )
    for column, label in (
        ("open_date_text", "Open Date (column 11)"),
        ("close_date_text", "Close Date (column 12)"),
    ):
        parsed = pl.col(column).str.strptime(pl.Date, "%Y%m%d", strict=False)
        bad = frame.filter(pl.col(column).is_not_null() & parsed.is_null())
        if bad.height:
            first = bad.row(0, named=True)
            raise InputDataError(
                f"{first[column]!r} is not a YYYYMMDD date", file=path, row=first["source_row"], column=label
            )
    duplicated = frame.filter(~pl.col("org_code").is_first_distinct())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise InputDataError(
            f"organisation code {first['org_code']} appears more than once",
            file=path,
            row=first["source_row"],
            column="Organisation Code (column 1)",
        )
    return (
        frame.with_columns(
            open_date=pl.col("open_date_text").str.strptime(pl.Date, "%Y%m%d"),
            close_date=pl.col("close_date_text").str.strptime(pl.Date, "%Y%m%d"),
        )
        .join(regions.select("region_code", "region_name"), on="region_code", how="left")
        .select(
            "org_code",
            "org_name",
            "region_code",
            "region_name",
            "icb_code",
            "postcode",
            "open_date",
            "close_date",
            "source_row",
        )
        .sort("org_code")
    )
