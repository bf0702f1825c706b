"""Parser for the official *benchmark report Excel data* workbook (one multi-year workbook per release).

Layout (data-sources.md §3.3): a sheet per benchmarking group (names vary by release: matched fuzzily),
header on row 1, one row per organisation: `org_id`, `org_name`, `org_type_reporting_name`, then
`<measure>_<year>` with its base `<measure>_n_<year>`. History columns are reweighted to the release year's
occupation mix, so every value keeps its release year. Question percentages are fractions (0–1) from the
2025 release and 0–100 before; they are returned on the 0–100 scale.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.staged.files import as_number, column_letter, unreadable_number
from assets.staged.staff_survey.groups import match_group
from assets.staged.staff_survey.workbook import open_workbook
from pipeline.errors import InputDataError
from pipeline.reference import read_reference

FIRST_FRACTION_RELEASE = 2025  # §3.3: question %s are 0–1 in the 2025 file, 0–100 in earlier releases
VALUE_COLUMN = re.compile(r"^(?P<measure>.+?)_(?P<base>n_)?(?P<year>20\d\d)$")
ORG_ID, ORG_NAME, ORG_GROUP = "org_id", "org_name", "org_type_reporting_name"


@dataclass(frozen=True)
class BenchmarkTables:
    organisations: pl.DataFrame  # org_code, org_name, benchmarking_group, source_sheet, source_row
    scores: pl.DataFrame  # org_code, survey_year, measure_id, score, base, release_year, source_sheet, source_column
    questions: pl.DataFrame  # org_code, survey_year, source_question_id, question_id, statistic, pct, base, ...


def parse_benchmark_workbook(path: Path, release_year: int) -> BenchmarkTables:
    reader, file = open_workbook(path, member_hint="benchmark")
    measures = read_reference("people_promise_measures")
    score_measures = dict(zip(measures["benchmark_measure"], measures["measure_id"], strict=True))
    question_stats = read_reference("benchmark_question_measures")
    org_parts, score_parts, question_parts = [], [], []
    for sheet in reader.sheet_names:
        frame = reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        if frame.height < 2:
            continue
        header = [(h or "").strip() for h in frame.row(0)]
        if ORG_ID not in header or not any(VALUE_COLUMN.match(h) for h in header):
            continue  # Notes, organisation lists and other non-data sheets
        body = frame.slice(1).with_row_index("source_row", offset=2)
        names = body.columns
        code_col = names[header.index(ORG_ID) + 1]
        body = body.filter(pl.col(code_col).is_not_null() & (pl.col(code_col).str.strip_chars() != ""))
        orgs = _organisations(body, header, names, file, sheet)
        org_parts.append(orgs)
        long = _values(body, header, names, code_col, file, sheet)
        score_parts.append(_scores(long, score_measures, release_year, sheet))
        question_parts.append(_questions(long, question_stats, release_year, file, sheet))
    if not org_parts:
        raise InputDataError(
            f"no sheet has an {ORG_ID!r} column and <measure>_<year> columns; sheets: {reader.sheet_names}", file=file
        )
    organisations = pl.concat(org_parts)
    duplicated = organisations.filter(pl.col("org_code").is_duplicated())
    if duplicated.height:
        first = duplicated.row(-1, named=True)
        raise InputDataError(
            f"organisation {first['org_code']} appears on more than one sheet",
            file=file,
            sheet=first["source_sheet"],
            row=first["source_row"],
            column=ORG_ID,
        )
    return BenchmarkTables(organisations, pl.concat(score_parts), pl.concat(question_parts))


def _organisations(body: pl.DataFrame, header: list[str], names: list[str], file: str, sheet: str) -> pl.DataFrame:
    def column(name: str) -> pl.Expr:
        if name in header:
            return pl.col(names[header.index(name) + 1]).str.strip_chars()
        return pl.lit(None, dtype=pl.String)

    group_of_sheet = match_group(sheet)
    orgs = body.select(
        org_code=column(ORG_ID), org_name=column(ORG_NAME), published_group=column(ORG_GROUP), source_row="source_row"
    )
    groups = []
    for published, row in zip(orgs["published_group"], orgs["source_row"], strict=True):
        group = match_group(published) if published else group_of_sheet
        if group is None:
            raise InputDataError(
                f"unknown benchmarking group {published or sheet!r} (not in benchmarking_groups.csv)",
                file=file,
                sheet=sheet,
                row=row,
                column=ORG_GROUP if published else None,
            )
        groups.append(group)
    return orgs.select(
        "org_code",
        "org_name",
        benchmarking_group=pl.Series(groups, dtype=pl.String),
        source_sheet=pl.lit(sheet),
        source_row="source_row",
    )


def _values(
    body: pl.DataFrame, header: list[str], names: list[str], code_col: str, file: str, sheet: str
) -> pl.DataFrame:
    meta = []
    for index, head in enumerate(header):
        match = VALUE_COLUMN.match(head)
        if match:
            meta.append(
                {
                    "col_name": names[index + 1],
                    "measure": match["measure"],
                    "is_base": bool(match["base"]),
                    "survey_year": int(match["year"]),
                    "source_column": f"{column_letter(index)} ({head})",
                }
            )
    meta_frame = pl.DataFrame(meta)
    long = body.select("source_row", pl.col(code_col).str.strip_chars().alias("org_code"), *meta_frame["col_name"])
    long = long.unpivot(index=["source_row", "org_code"], variable_name="col_name", value_name="text").join(
        meta_frame, on="col_name"
    )
    text = pl.col("text").str.strip_chars()
    long = long.with_columns(value=as_number(text))
    bad = long.filter(unreadable_number(text, pl.col("value")))
    if bad.height:
        first = bad.row(0, named=True)
        raise InputDataError(
            f"{first['text']!r} is neither a number nor a suppression marker",
            file=file,
            sheet=sheet,
            row=first["source_row"],
            column=first["source_column"],
        )
    return long.drop("text", "col_name")


def _with_bases(long: pl.DataFrame, measures: list[str]) -> pl.DataFrame:
    of_interest = long.filter(pl.col("measure").is_in(measures))
    bases = of_interest.filter("is_base").select(
        "org_code", "measure", "survey_year", base=pl.col("value").round(0).cast(pl.Int64)
    )
    return of_interest.filter(~pl.col("is_base")).join(bases, on=["org_code", "measure", "survey_year"], how="left")


def _scores(long: pl.DataFrame, score_measures: dict[str, str], release_year: int, sheet: str) -> pl.DataFrame:
    return _with_bases(long, list(score_measures)).select(
        "org_code",
        pl.col("survey_year").cast(pl.Int32),
        measure_id=pl.col("measure").replace_strict(score_measures, return_dtype=pl.String),
        score="value",
        base="base",
        release_year=pl.lit(release_year, dtype=pl.Int32),
        source_sheet=pl.lit(sheet),
        source_column="source_column",
    )


def _questions(
    long: pl.DataFrame, question_stats: pl.DataFrame, release_year: int, file: str, sheet: str
) -> pl.DataFrame:
    """Question %s named in the release year's numbering (history columns are harmonised to it, §3.3)."""
    crosswalk = read_reference("staff_survey_question_crosswalk").filter(pl.col("survey_year") == str(release_year))
    wanted = question_stats.join(crosswalk.select("source_question_id", "question_id"), on="question_id")
    stat_of = dict(zip(wanted["source_question_id"], wanted["statistic"], strict=True))
    question_of = dict(zip(wanted["source_question_id"], wanted["question_id"], strict=True))
    found = _with_bases(long, list(stat_of))
    scale = 100.0 if release_year >= FIRST_FRACTION_RELEASE else 1.0
    if scale == 100.0:
        over = found.filter(pl.col("value") > 1.0)
        if over.height:
            first = over.row(0, named=True)
            raise InputDataError(
                f"{first['value']} is above 1, but question percentages are fractions from the "
                f"{FIRST_FRACTION_RELEASE} release",
                file=file,
                sheet=sheet,
                row=first["source_row"],
                column=first["source_column"],
            )
    return found.select(
        "org_code",
        pl.col("survey_year").cast(pl.Int32),
        source_question_id="measure",
        question_id=pl.col("measure").replace_strict(question_of, return_dtype=pl.String),
        statistic=pl.col("measure").replace_strict(stat_of, return_dtype=pl.String),
        pct=pl.col("value") * scale,
        base="base",
        release_year=pl.lit(release_year, dtype=pl.Int32),
        source_sheet=pl.lit(sheet),
        source_column="source_column",
    )
