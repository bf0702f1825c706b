"""Parsers for the cancer waiting times workbooks: FDS, 31-day and 62-day performance per provider.

* Combined workbook, sheet `Provider Level Performance`: title block, header row 15 (column A blank), one
  row per provider × standard × cancer type × route or stage × modality; England rows have `Org Code` Total.
* Provider workbook: one sheet per standard; the 31- and 62-day sheets stack parts (PART A, PART B, …)
  one below the other, each with its own header row (row 9 for the first) and an `ALL ENGLISH PROVIDERS`
  England row at its foot.

Which rows make up each standard (as defined from October 2023) is in data/reference/cancer_standard_rows.csv.
Counts may be halves: a pathway shared by two providers counts half to each.
"""

import re
from datetime import date, datetime
from pathlib import Path

import fastexcel
import polars as pl

from assets.staged.files import column_letter, open_excel
from assets.staged.performance.measures import (
    ParsedMonth,
    as_totals,
    counts,
    finish,
    no_totals,
    percent_rows,
    require_within,
)
from pipeline.errors import InputDataError
from pipeline.reference import read_reference

PROVIDER_CODE = {"combined_workbook": "Org Code", "provider_workbook": "ODS CODE (1)"}
PROVIDER_NAME = {"combined_workbook": "Org Name", "provider_workbook": "ACCOUNTABLE PROVIDER"}
ROUTE_COLUMNS = ("Referral Route/Stage", "REFERRAL ROUTE", "TREATMENT STAGE")
ENGLAND_NAMES = {"total", "all english providers"}
SHORT_PERIOD = re.compile(r"^[A-Za-z]{3}-\d{2}$")


def standard_rows(product: str) -> list[dict[str, str | None]]:
    rows = read_reference("cancer_standard_rows").filter(pl.col("product") == product)
    return list(rows.iter_rows(named=True))


def _sheet(reader: fastexcel.ExcelReader, path: Path, name: str) -> pl.DataFrame:
    """Every cell of a sheet as text, with its Excel row number (`source_row`)."""
    if name not in reader.sheet_names:
        raise InputDataError(f"has no sheet {name!r} (sheets: {', '.join(reader.sheet_names)})", file=path, sheet=name)
    frame = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
    frame.columns = [f"c{i}" for i in range(frame.width)]
    return (
        frame.with_columns(pl.all().str.strip_chars())
        .with_row_index("source_row", offset=1)
        .cast({"source_row": pl.Int64})
    )


def period_cell(frame: pl.DataFrame) -> tuple[date | None, int | None, str | None]:
    """The data month from the title block, `Period:` `January 2026` (combined) or `Apr-25` (provider), with the
    Excel row and column of the cell that gives it."""
    top = frame.head(15)
    cells = [
        (row_number, f"c{index}", cell)
        for row_number, *values in top.select("source_row", pl.all().exclude("source_row")).rows()
        for index, cell in enumerate(values)
    ]
    for i, (row_number, column, cell) in enumerate(cells):
        if cell == "Period:":
            following = next(((r, c, v) for r, c, v in cells[i + 1 :] if v), (row_number, column, ""))
            try:
                return datetime.strptime(following[2], "%B %Y").date(), following[0], following[1]
            except ValueError:
                return None, following[0], following[1]
        if cell and SHORT_PERIOD.match(cell):
            return datetime.strptime(cell.title(), "%b-%y").date(), row_number, column
    return None, None, None


def _check_month(frame: pl.DataFrame, month: date, path: Path, sheet: str) -> None:
    found, row, column = period_cell(frame)
    if found != month:
        shown = f"{found:%B %Y}" if found else "no period"
        raise InputDataError(
            f"title block gives {shown}, not the data month {month:%B %Y} this file was loaded for",
            file=path,
            sheet=sheet,
            row=row,
            column=column_letter(int(column[1:])) if column else None,
        )


def _header_index(frame: pl.DataFrame, first: int, label: str, path: Path, sheet: str) -> int:
    """Position (0-based) of the first row at or after `first` that holds the column label `label`."""
    cells = frame.drop("source_row")
    hits = cells.slice(first).with_row_index("i").filter(pl.any_horizontal(pl.all().exclude("i") == label))
    if hits.is_empty():
        raise InputDataError(f"no header row with a {label!r} column", file=path, sheet=sheet)
    return first + int(hits["i"][0])


def _table(frame: pl.DataFrame, header_at: int, path: Path, sheet: str, needed: list[str]) -> pl.DataFrame:
    """Rows below a header row, named by it, until the next part's title (blank rows dropped)."""
    header = [h or "" for h in frame.drop("source_row").row(header_at)]
    missing = [n for n in needed if n not in header]
    if missing:
        raise InputDataError(
            f"header has no {missing[0]!r} column",
            file=path,
            sheet=sheet,
            row=frame["source_row"][header_at],
            column=missing[0],
        )
    keep = {f"c{header.index(name)}": name for name in dict.fromkeys(needed)}
    body = frame.slice(header_at + 1).select("source_row", *[pl.col(c).alias(n) for c, n in keep.items()])
    part_title = frame.slice(header_at + 1)["c0"].str.starts_with("PART ").fill_null(False)
    if part_title.any():
        body = body.head(int(part_title.arg_true()[0]))
    return body.filter(pl.any_horizontal(pl.all().exclude("source_row").is_not_null()))


def _measure_rows(
    table: pl.DataFrame, spec: dict[str, str | None], product: str, path: Path, sheet: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(provider rows, England rows) of one standard, as measures."""
    selected = table
    for column, wanted in (
        ("Standard", spec["standard"]),
        ("Cancer Type", spec["cancer_type"]),
        ("CANCER TYPE", spec["cancer_type"]),
        ("Treatment Modality", spec["treatment_modality"]),
        *((c, spec["route_or_stage"]) for c in ROUTE_COLUMNS),
    ):
        if wanted and column in selected.columns:
            selected = selected.filter(pl.col(column).str.to_uppercase() == wanted.upper())
    code, name = PROVIDER_CODE[product], PROVIDER_NAME[product]
    selected = selected.with_columns(
        reported_org_code=pl.col(code).fill_null(""), reported_org_name=pl.col(name).fill_null("")
    )
    total, within = spec["total_column"], spec["within_column"]
    selected = counts(selected, {total: total, within: within}, file=path, sheet=sheet, step=0.5)
    require_within(selected, within, total, file=path, sheet=sheet, column=within, what=f"{spec['measure']} within")
    is_england = pl.col("reported_org_name").str.to_lowercase().is_in(ENGLAND_NAMES) | (
        pl.col("reported_org_code").str.to_lowercase() == "total"
    )
    providers, england = selected.filter(~is_england), selected.filter(is_england)
    blank = providers.filter(pl.col("reported_org_code") == "")
    if blank.height:
        raise InputDataError(
            "provider row without an organisation code", file=path, sheet=sheet, row=blank["source_row"][0], column=code
        )
    duplicated = providers.filter(pl.col("reported_org_code").is_duplicated())
    if duplicated.height:
        last = duplicated.row(-1, named=True)
        raise InputDataError(
            f"provider {last['reported_org_code']} appears twice for {spec['measure']}",
            file=path,
            sheet=sheet,
            row=last["source_row"],
            column=code,
        )

    def rows(frame: pl.DataFrame) -> pl.DataFrame:
        return percent_rows(frame, spec["measure"], pl.col(within), pl.col(total))

    return rows(providers), rows(england)


def parse_cancer_workbook(path: Path, product: str, month: date, official_name: str | None = None) -> ParsedMonth:
    """Provider measures cancer_fds_pct, cancer_31d_pct and cancer_62d_pct, and the England rows of the file."""
    if product not in PROVIDER_CODE:
        raise ValueError(f"unknown cancer waiting times product {product!r}")
    reader = open_excel(path)
    source = official_name or path.name
    measures, totals, sheets = [], [], {}
    for spec in standard_rows(product):
        sheet = spec["sheet"]
        if sheet not in sheets:
            sheets[sheet] = _sheet(reader, path, sheet)
            _check_month(sheets[sheet], month, path, sheet)
        frame = sheets[sheet]
        start = 0
        if spec["part"]:
            titles = frame.with_row_index("i").filter(pl.col("c0").str.to_uppercase() == spec["part"].upper())
            if titles.is_empty():
                raise InputDataError(f"no {spec['part']!r} table", file=path, sheet=sheet)
            start = int(titles["i"][0])
        code = PROVIDER_CODE[product]
        header_at = _header_index(frame, start, code, path, sheet)
        needed = [code, PROVIDER_NAME[product], spec["total_column"], spec["within_column"]]
        header = [h or "" for h in frame.drop("source_row").row(header_at)]
        needed += [
            c for c in ("Standard", "Cancer Type", "CANCER TYPE", "Treatment Modality", *ROUTE_COLUMNS) if c in header
        ]
        table = _table(frame, header_at, path, sheet, needed)
        provider_rows, england_rows = _measure_rows(table, spec, product, path, sheet)
        if provider_rows.is_empty():
            raise InputDataError(f"no provider rows for {spec['measure']}", file=path, sheet=sheet)
        measures.append(finish([provider_rows], source_file=source, sheet=sheet))
        if england_rows.height:
            totals.append(as_totals(finish([england_rows], source_file=source, sheet=sheet)))
    return ParsedMonth(
        measures=pl.concat(measures),
        file_totals=pl.concat(totals) if totals else no_totals(),
    )
