"""Parser for the official *NSSxx detailed spreadsheets – organisational results* workbook (2021 onwards).

Layout (data-sources.md §3.4): every data sheet has the question or score label on row 1, merged over its
block of columns (so it is forward-filled), and the header on row 5: six ID columns, then per block one
`% <option>` column per response option (or a `<code> - score` column) and `Base (number of responses)`.
Data rows start on row 6 and end at the first blank row. Sheet names vary by year, so sheets are selected
by pattern. Suppressed cells (`-`, `*`, `<10`, `<11` and the other markers in
data/reference/suppression_markers.csv) become null; counts written with thousands separators are read as numbers.
"""

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from assets.staged.files import as_number, column_letter, open_excel, unreadable_number, zip_members
from pipeline.errors import InputDataError

LABEL_ROW, HEADER_ROW = 1, 5  # 1-based Excel rows
FIRST_DATA_ROW = HEADER_ROW + 1
ID_HEADERS: tuple[tuple[str, ...], ...] = (
    ("ODS code",),
    ("Organisation name",),
    ("Benchmarking group",),
    ("Region",),
    ("ICS/STP", "ICS"),  # ICS/STP in 2021–22, ICS from 2023
    ("Weighting",),
)
ID_NAMES = ("org_code", "org_name", "benchmarking_group", "region", "ics", "weighting")
BASE_HEADER = "Base (number of responses)"
# rounding of published percentages: a question's options sum to 100 within 0.5 (expectations/staff_survey_responses)
FRACTION_TOLERANCE = 0.005

QUESTION_SHEET = re.compile(r"\bQ\d+[A-Za-z]?(\s*-\s*Q?\d+[A-Za-z]?)?\s*$")
SCORE_SHEETS = {"people_promise": re.compile(r"PEOPLE\s+PROMISE", re.I), "themes": re.compile(r"^\s*THEMES?\b", re.I)}
QUESTION_LABEL = re.compile(r"^\s*(Q\d+[A-Za-z]?(?:_\d+)?)\s*[-–]\s*(.*)$", re.S)
MEASURE_LABEL = re.compile(r"^\s*(.+?)\s+[-–]\s+(.*)$", re.S)
TITLE_YEAR = re.compile(r"\b(20\d\d)\b")


@dataclass(frozen=True)
class WorkbookTables:
    """Everything one organisational workbook holds, in long form, before harmonisation."""

    organisations: pl.DataFrame  # org_code, org_name, benchmarking_group, region, ics, weighting, source_row
    responses: pl.DataFrame  # org_code, source_question_id, question_text, option_order, option_label, pct, base, ...
    scores: pl.DataFrame  # org_code, measure_label, measure_name, score, base, source_sheet, source_column
    sheets_ignored: list[str] = field(default_factory=list)


def open_workbook(path: Path, member_hint: str = "organisational results") -> tuple[fastexcel.ExcelReader, str]:
    """Open an xlsx (or the matching xlsx inside the publisher's zip); bad files raise InputDataError."""
    if path.suffix.lower() != ".zip":
        return open_excel(path), path.name
    members = [m for m in zip_members(path) if m.lower().endswith(".xlsx") and member_hint in m.lower()]
    if not members:
        raise InputDataError(f"the zip holds no '*{member_hint}*.xlsx' workbook", file=path)
    with zipfile.ZipFile(path) as archive:
        data = archive.read(members[0])
    return open_excel(path, data, members[0]), members[0]


def _read_sheet(reader: fastexcel.ExcelReader, sheet: str, file: str) -> pl.DataFrame:
    try:
        return reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
    except Exception as error:
        raise InputDataError(f"sheet cannot be read: {str(error).splitlines()[0]}", file=file, sheet=sheet) from None


def _check_id_headers(header: tuple, file: str, sheet: str) -> None:
    if len(header) < len(ID_HEADERS):
        raise InputDataError(f"has {len(header)} columns; expected the six ID columns", file=file, sheet=sheet)
    for index, allowed in enumerate(ID_HEADERS):
        found = (header[index] or "").strip()
        if found not in allowed:
            raise InputDataError(
                f"expected header {' or '.join(repr(a) for a in allowed)}, found {found!r}",
                file=file,
                sheet=sheet,
                row=HEADER_ROW,
                column=f"{column_letter(index)} ({found or 'blank'})",
            )


def _data_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows from row 6 down to the first blank ODS code, with their Excel row numbers."""
    body = frame.slice(FIRST_DATA_ROW - 1).with_row_index("source_row", offset=FIRST_DATA_ROW)
    first_col = body.columns[1]
    blank = body.select(pl.col(first_col).is_null() | (pl.col(first_col).str.strip_chars() == "")).to_series()
    stop = int(blank.arg_true()[0]) if blank.any() else body.height
    return body.slice(0, stop)


@dataclass(frozen=True)
class _Block:
    label_code: str
    text: str
    columns: list[tuple[int, str]]  # (0-based column, header) of the value columns, base last


def _blocks(frame: pl.DataFrame, file: str, sheet: str, label_pattern: re.Pattern[str]) -> list[_Block]:
    labels, header = frame.row(LABEL_ROW - 1), frame.row(HEADER_ROW - 1)
    blocks: list[_Block] = []
    for index in range(len(ID_HEADERS), len(header)):
        label, head = labels[index], (header[index] or "").strip()
        if label is not None and label.strip():
            match = label_pattern.match(label.strip())
            if not match:
                raise InputDataError(
                    f"row-1 label {label.strip()[:60]!r} is not a recognised question or score label",
                    file=file,
                    sheet=sheet,
                    row=LABEL_ROW,
                    column=column_letter(index),
                )
            blocks.append(_Block(match.group(1).strip(), " ".join(match.group(2).split()), []))
        if not head and (label is None or not label.strip()):
            continue  # trailing empty columns
        if not blocks:
            raise InputDataError(
                "a value column has no row-1 label before it",
                file=file,
                sheet=sheet,
                row=LABEL_ROW,
                column=column_letter(index),
            )
        blocks[-1].columns.append((index, head))
    if not blocks:
        raise InputDataError("has no question or score blocks after the six ID columns", file=file, sheet=sheet)
    for block in blocks:
        heads = [h for _, h in block.columns]
        if heads[-1] != BASE_HEADER:
            last_index = block.columns[-1][0]
            raise InputDataError(
                f"block {block.label_code} does not end with a {BASE_HEADER!r} column (renamed or missing column?)",
                file=file,
                sheet=sheet,
                row=HEADER_ROW,
                column=f"{column_letter(last_index)} ({heads[-1] or 'blank'})",
            )
        if len(heads) < 2:
            raise InputDataError(
                f"block {block.label_code} has no value columns",
                file=file,
                sheet=sheet,
                row=HEADER_ROW,
                column=column_letter(block.columns[0][0]),
            )
    return blocks


def _numbers(body: pl.DataFrame, columns: list[int], file: str, sheet: str, header: tuple) -> pl.DataFrame:
    """Long frame (source_row, org_code, col, value) with markers as null; any other text raises."""
    names = body.columns
    long = body.select(
        "source_row", pl.col(names[1]).str.strip_chars().alias("org_code"), *[pl.col(names[c + 1]) for c in columns]
    ).unpivot(index=["source_row", "org_code"], variable_name="col_name", value_name="text")
    text = pl.col("text").str.strip_chars()
    long = long.with_columns(value=as_number(text))
    bad = long.filter(unreadable_number(text, pl.col("value")))
    if bad.height:
        first = bad.row(0, named=True)
        col = names.index(first["col_name"]) - 1
        raise InputDataError(
            f"{first['text']!r} is neither a number nor a suppression marker (data/reference/suppression_markers.csv)",
            file=file,
            sheet=sheet,
            row=first["source_row"],
            column=f"{column_letter(col)} ({header[col]})",
        )
    positions = pl.DataFrame(
        {"col_name": [names[c + 1] for c in columns], "col": columns}, schema_overrides={"col": pl.Int64}
    )
    return long.join(positions, on="col_name").drop("col_name", "text")


def _check_organisations(body: pl.DataFrame, file: str, sheet: str) -> None:
    codes = body.get_column(body.columns[1]).str.strip_chars()
    duplicated = body.filter(codes.is_duplicated())
    if duplicated.height:
        first = duplicated.row(0)
        raise InputDataError(
            f"organisation {first[1]} appears more than once",
            file=file,
            sheet=sheet,
            row=first[0],
            column="A (ODS code)",
        )


def parse_organisational_workbook(path: Path, survey_year: int) -> WorkbookTables:
    """Every question, option, People Promise and theme score of one organisational workbook."""
    reader, file = open_workbook(path)
    question_sheets = [s for s in reader.sheet_names if QUESTION_SHEET.search(s) and not _score_kind(s)]
    score_sheets = [s for s in reader.sheet_names if _score_kind(s)]
    ignored = [s for s in reader.sheet_names if s not in question_sheets and s not in score_sheets]
    if not question_sheets:
        raise InputDataError(
            f"no question sheets (names ending in a question range such as 'Q1-3'); sheets: {reader.sheet_names}",
            file=file,
        )
    if not any(_score_kind(s) == "people_promise" for s in score_sheets):
        raise InputDataError("has no PEOPLE PROMISE ELEMENTS sheet", file=file)
    for sheet in ignored:
        _refuse_unrecognised_data_sheet(reader, sheet, file)

    organisations: pl.DataFrame | None = None
    response_parts: list[pl.DataFrame] = []
    score_parts: list[pl.DataFrame] = []
    for sheet in question_sheets + score_sheets:
        frame = _read_sheet(reader, sheet, file)
        if frame.height < FIRST_DATA_ROW or frame.width <= len(ID_HEADERS):
            raise InputDataError("is too small to hold the header on row 5 and data rows", file=file, sheet=sheet)
        _check_title_year(frame, survey_year, file, sheet)
        header = tuple((h or "").strip() for h in frame.row(HEADER_ROW - 1))
        _check_id_headers(header, file, sheet)
        body = _data_rows(frame)
        if body.is_empty():
            raise InputDataError("has no data rows below the header", file=file, sheet=sheet, row=FIRST_DATA_ROW)
        _check_organisations(body, file, sheet)
        sheet_orgs = _organisations(body)
        if organisations is None:
            organisations = sheet_orgs
        elif set(sheet_orgs["org_code"]) != set(organisations["org_code"]):
            extra = sorted(set(sheet_orgs["org_code"]) ^ set(organisations["org_code"]))[:5]
            raise InputDataError(
                f"lists different organisations from sheet {question_sheets[0]!r} (e.g. {extra})",
                file=file,
                sheet=sheet,
                column="A (ODS code)",
            )
        if _score_kind(sheet):
            score_parts.append(_score_sheet(frame, body, header, file, sheet))
        else:
            response_parts.append(_question_sheet(frame, body, header, file, sheet))
    assert organisations is not None
    responses = pl.concat(response_parts)
    _refuse_fractions(responses, file)
    duplicated = responses.filter(pl.struct("org_code", "source_question_id", "option_order").is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise InputDataError(
            f"question {first['source_question_id']} appears in more than one block",
            file=file,
            sheet=first["source_sheet"],
            row=LABEL_ROW,
            column=first["source_column"],
        )
    return WorkbookTables(organisations, responses, pl.concat(score_parts), ignored)


def _refuse_unrecognised_data_sheet(reader: fastexcel.ExcelReader, sheet: str, file: str) -> None:
    """Sheets are chosen by name; a data sheet renamed past recognition would otherwise drop its questions silently."""
    try:
        top = reader.load_sheet(sheet, header_row=None, n_rows=HEADER_ROW, dtypes="string").to_polars()
    except Exception:  # an unreadable sheet we do not need (e.g. a chart sheet) is no loss
        return
    if top.height >= HEADER_ROW and top.width and (top.row(HEADER_ROW - 1)[0] or "").strip() in ID_HEADERS[0]:
        raise InputDataError(
            "holds organisation rows under an 'ODS code' header, but its name matches neither a question range "
            "(such as 'Q1-3') nor a score sheet: renamed? Its questions would be lost",
            file=file,
            sheet=sheet,
            row=HEADER_ROW,
            column="A (ODS code)",
        )


def _refuse_fractions(responses: pl.DataFrame, file: str) -> None:
    """Option percentages are 0-100, so a question's complete set of options sums to 100. One that sums to 1 was
    written as fractions (as the 2025 benchmark file does): refuse it rather than store values 100 times too small."""
    totals = responses.group_by("org_code", "source_question_id").agg(
        pl.col("pct").sum().alias("total"),
        pl.col("pct").is_not_null().all().alias("complete"),
        pl.col("source_sheet", "source_row", "source_column").first(),
    )
    fractions = totals.filter(pl.col("complete") & ((pl.col("total") - 1).abs() <= FRACTION_TOLERANCE))
    if fractions.height:
        first = fractions.sort("source_sheet", "source_row", "source_column").row(0, named=True)
        raise InputDataError(
            f"the options of {first['source_question_id']} sum to {first['total']:.4g}, not 100: percentages written "
            "as fractions of 1?",
            file=file,
            sheet=first["source_sheet"],
            row=first["source_row"],
            column=first["source_column"],
        )


def _score_kind(sheet: str) -> str | None:
    return next((kind for kind, pattern in SCORE_SHEETS.items() if pattern.search(sheet)), None)


def _check_title_year(frame: pl.DataFrame, survey_year: int, file: str, sheet: str) -> None:
    title = frame.row(0)[0] or ""
    found = TITLE_YEAR.search(title)
    if found and int(found.group(1)) != survey_year:
        raise InputDataError(
            f"title {title.strip()!r} is for survey year {found.group(1)}, not {survey_year}",
            file=file,
            sheet=sheet,
            row=1,
            column="A",
        )


def _organisations(body: pl.DataFrame) -> pl.DataFrame:
    names = body.columns
    return body.select(*[pl.col(names[i + 1]).str.strip_chars().alias(n) for i, n in enumerate(ID_NAMES)], "source_row")


def _question_sheet(frame: pl.DataFrame, body: pl.DataFrame, header: tuple, file: str, sheet: str) -> pl.DataFrame:
    blocks = _blocks(frame, file, sheet, QUESTION_LABEL)
    meta_rows = []
    for block in blocks:
        for order, (index, head) in enumerate(block.columns, start=1):
            is_base = head == BASE_HEADER
            if not is_base and not head.startswith("%"):
                raise InputDataError(
                    f"expected a '% <option>' or {BASE_HEADER!r} header in block {block.label_code}, found {head!r}",
                    file=file,
                    sheet=sheet,
                    row=HEADER_ROW,
                    column=f"{column_letter(index)} ({head or 'blank'})",
                )
            meta_rows.append(
                {
                    "col": index,
                    "source_question_id": block.label_code.lower(),
                    "question_text": block.text,
                    "option_order": None if is_base else order,
                    "option_label": None if is_base else head.removeprefix("%").strip(),
                    "is_base": is_base,
                    "source_column": column_letter(index),
                }
            )
    meta = pl.DataFrame(meta_rows, schema_overrides={"option_order": pl.Int32, "col": pl.Int64})
    long = _numbers(body, meta["col"].to_list(), file, sheet, header).join(meta, on="col")
    bases = long.filter("is_base").select(
        "org_code", "source_question_id", base=pl.col("value").round(0).cast(pl.Int64)
    )
    return (
        long.filter(~pl.col("is_base"))
        .join(bases, on=["org_code", "source_question_id"], how="left")
        .select(
            "org_code",
            "source_question_id",
            "question_text",
            "option_order",
            "option_label",
            pct=pl.col("value"),
            base=pl.col("base"),
            source_sheet=pl.lit(sheet),
            source_column="source_column",
            source_row="source_row",
        )
    )


def _score_sheet(frame: pl.DataFrame, body: pl.DataFrame, header: tuple, file: str, sheet: str) -> pl.DataFrame:
    blocks = _blocks(frame, file, sheet, MEASURE_LABEL)
    meta_rows = []
    for block in blocks:
        if len(block.columns) != 2 or not block.columns[0][1].endswith("- score"):
            index, head = block.columns[0]
            raise InputDataError(
                f"score block {block.label_code} should be '<code> - score' then {BASE_HEADER!r}",
                file=file,
                sheet=sheet,
                row=HEADER_ROW,
                column=f"{column_letter(index)} ({head or 'blank'})",
            )
        (score_col, _), (base_col, _) = block.columns
        for col, role in ((score_col, "score"), (base_col, "base")):
            meta_rows.append(
                {
                    "col": col,
                    "measure_label": block.label_code,
                    "measure_name": block.text,
                    "role": role,
                    "source_column": column_letter(col),
                }
            )
    meta = pl.DataFrame(meta_rows, schema_overrides={"col": pl.Int64})
    long = _numbers(body, meta["col"].to_list(), file, sheet, header).join(meta, on="col")
    scores = long.filter(pl.col("role") == "score")
    bases = long.filter(pl.col("role") == "base").select(
        "org_code", "measure_label", base=pl.col("value").round(0).cast(pl.Int64)
    )
    return scores.join(bases, on=["org_code", "measure_label"], how="left").select(
        "org_code",
        "measure_label",
        "measure_name",
        score="value",
        base="base",
        source_sheet=pl.lit(sheet),
        source_column="source_column",
        source_row="source_row",
    )
