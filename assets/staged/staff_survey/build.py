"""Turn one survey year's source files into the four staged survey tables (pure: no Dagster, no database).

Source precedence per year: the organisational workbook (every question and option, official scores); else
the trust-level extract (about 20 questions, derived statistics recovered exactly from its option sums);
the benchmark workbook adds official scores and a few question %s only where neither of the others has them.
"""

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from assets.staged.staff_survey import scoring
from assets.staged.staff_survey.benchmark import parse_benchmark_workbook
from assets.staged.staff_survey.context_extract import scores_from_extract
from assets.staged.staff_survey.extract import parse_trust_extract
from assets.staged.staff_survey.groups import with_group_details
from assets.staged.staff_survey.workbook import WorkbookTables, parse_organisational_workbook
from pipeline import dictionary
from pipeline.errors import InputDataError
from pipeline.reference import read_reference
from pipeline.sources import SourceFile

# the Polars schema of each staged survey table, from data/dictionary/<table>.yaml
SCHEMAS: dict[str, pl.Schema] = {
    table: dictionary.table(table).polars_schema()
    for table in ("staff_survey_items", "staff_survey_responses", "people_promise_scores", "survey_organisations")
}
TABLES = tuple(SCHEMAS)


@dataclass
class SurveyYear:
    tables: dict[str, pl.DataFrame]
    metadata: dict[str, Any] = field(default_factory=dict)
    validity: pl.DataFrame | None = None


def _shape(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    schema = SCHEMAS[table]
    missing = {c: pl.lit(None, dtype=t) for c, t in schema.items() if c not in frame.columns}
    return frame.with_columns(**missing).select([pl.col(c).cast(t) for c, t in schema.items()])


def empty(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[table])


def build_survey_year(files: list[SourceFile], survey_year: int) -> SurveyYear:
    by_product = {f.product: f for f in files}
    workbook, extract, benchmark = (
        by_product.get("organisational_workbook"),
        by_product.get("trust_extract"),
        by_product.get("benchmark_workbook"),
    )
    via_extract = by_product.get("benchmark_via_extract")
    if not (workbook or extract or benchmark or via_extract):
        raise ValueError(f"no staff survey source file for {survey_year}: {[f.product for f in files]}")
    tables = {t: empty(t) for t in TABLES}
    metadata: dict[str, Any] = {"survey_year": survey_year}
    if via_extract is not None and not (workbook or extract or benchmark):
        # only official scores, from the benchmark workbook as the trust context extract carries them
        scores = scores_from_extract(via_extract.path, via_extract.official_name, survey_year)
        tables["people_promise_scores"] = _shape("people_promise_scores", scores)
        metadata.update(question_coverage="none (official scores only, via the trust context extract)", questions=0)
        return SurveyYear(tables=tables, metadata=metadata)

    if workbook is not None:
        parsed = parse_organisational_workbook(workbook.path, survey_year)
        _from_workbook(parsed, workbook, survey_year, tables, metadata)
    elif extract is not None:
        _from_extract(extract, survey_year, tables, metadata)
    if benchmark is not None:
        _from_benchmark(benchmark, survey_year, tables, metadata)

    coverage = "full" if workbook is not None else "partial"
    metadata["question_coverage"] = coverage
    metadata["questions"] = tables["staff_survey_items"]["question_id"].n_unique()
    result = SurveyYear(tables=tables, metadata=metadata)
    result.validity = scoring.subscore_rebuild(tables["staff_survey_items"], tables["people_promise_scores"])
    return result


def _organisations(frame: pl.DataFrame, *, file: str, sheet: str | None, column: str) -> pl.DataFrame:
    return with_group_details(frame.filter(pl.col("org_code").is_not_null()), file=file, sheet=sheet, column=column)


def _from_workbook(
    parsed: WorkbookTables, source: SourceFile, year: int, tables: dict[str, pl.DataFrame], metadata: dict[str, Any]
) -> None:
    file = source.official_name
    responses, dropped = scoring.harmonise(parsed.responses, year)
    unknown = scoring.unscored_options(responses)
    if unknown.height:
        first = unknown.sort("source_sheet", "source_column").row(0, named=True)
        raise InputDataError(
            f"option {first['option_label']!r} of {first['question_id']} is not in question_catalogue.csv, "
            "so the item cannot be scored",
            file=file,
            sheet=first["source_sheet"],
            row=5,
            column=first["source_column"],
        )
    crosswalk = scoring.crosswalk().filter(pl.col("survey_year") == year).select("question_id", "comparable_with_2024")
    items = scoring.items_from_responses(responses).join(crosswalk, on="question_id", how="left")
    tables["staff_survey_items"] = _shape(
        "staff_survey_items",
        items.with_columns(
            survey_year=pl.lit(year),
            value_source=pl.lit("workbook"),
            release_year=pl.lit(year),
            source_file=pl.lit(file),
        ),
    )
    # a fully suppressed question has no distribution to check, so its total stays null
    totals = responses.group_by("org_code", "question_id").agg(
        option_pct_total=pl.when(pl.col("pct").is_not_null().any()).then(pl.col("pct").sum())
    )
    tables["staff_survey_responses"] = _shape(
        "staff_survey_responses",
        responses.join(totals, on=["org_code", "question_id"], how="left").with_columns(
            survey_year=pl.lit(year), source_file=pl.lit(file)
        ),
    )
    measures = read_reference("people_promise_measures")
    unknown_measures = parsed.scores.join(measures, left_on="measure_label", right_on="workbook_label", how="anti")
    if unknown_measures.height:
        first = unknown_measures.row(0, named=True)
        raise InputDataError(
            f"score {first['measure_label']!r} is not in people_promise_measures.csv",
            file=file,
            sheet=first["source_sheet"],
            row=1,
            column=first["source_column"],
        )
    tables["people_promise_scores"] = _shape(
        "people_promise_scores",
        parsed.scores.join(
            measures.rename({"measure_name": "reference_name"}), left_on="measure_label", right_on="workbook_label"
        ).with_columns(
            measure_name=pl.col("reference_name"),
            measure_kind=pl.col("kind"),
            survey_year=pl.lit(year),
            value_source=pl.lit("workbook"),
            release_year=pl.lit(year),
            source_file=pl.lit(file),
        ),
    )
    first_sheet = parsed.responses["source_sheet"][0]
    tables["survey_organisations"] = _shape(
        "survey_organisations",
        _organisations(
            parsed.organisations.with_columns(
                [pl.when(pl.col(c) != "-").then(pl.col(c)).alias(c) for c in ("region", "ics")]
            ),
            file=file,
            sheet=first_sheet,
            column="C (Benchmarking group)",
        ).with_columns(survey_year=pl.lit(year), value_source=pl.lit("workbook"), source_file=pl.lit(file)),
    )
    metadata |= {
        "workbook_questions_without_2024_equivalent": dropped,
        "workbook_sheets_ignored": parsed.sheets_ignored,
    }


def _from_extract(source: SourceFile, year: int, tables: dict[str, pl.DataFrame], metadata: dict[str, Any]) -> None:
    file = source.official_name
    items, organisations = extract_items(source, year)
    tables["staff_survey_items"] = _shape(
        "staff_survey_items", items.with_columns(survey_year=pl.lit(year), source_file=pl.lit(file))
    )
    tables["survey_organisations"] = _shape(
        "survey_organisations",
        organisations.with_columns(survey_year=pl.lit(year), value_source=pl.lit("extract"), source_file=pl.lit(file)),
    )
    metadata["extract_questions"] = sorted(items["question_id"].unique().to_list())


def extract_items(source: SourceFile, year: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Item statistics and organisations of one year of the trust-level extract."""
    parsed = parse_trust_extract(source.path, year)
    sums, _ = scoring.harmonise(parsed.option_sums, year)
    bases, _ = scoring.harmonise(parsed.bases, year)
    crosswalk = (
        scoring.crosswalk()
        .filter(pl.col("survey_year") == year)
        .select("question_id", "source_question_id", "comparable_with_2024")
    )
    items = (
        scoring.items_from_option_sums(sums)
        .join(bases.select("org_code", "question_id", "base"), on=["org_code", "question_id"], how="left")
        .join(crosswalk, on="question_id", how="left")
        .with_columns(value_source=pl.lit("extract"), release_year=pl.lit(year))
    )
    organisations = _organisations(
        parsed.organisations, file=source.official_name, sheet=None, column="Benchmarking group"
    )
    return items, organisations


def _from_benchmark(source: SourceFile, year: int, tables: dict[str, pl.DataFrame], metadata: dict[str, Any]) -> None:
    """Official scores (and a few question %s) from the benchmark release of the same year, where missing."""
    file = source.official_name
    release = int(source.period)
    parsed = parse_benchmark_workbook(source.path, release)
    scores = parsed.scores.filter(pl.col("survey_year") == year)
    metadata["benchmark_release"] = release
    if tables["people_promise_scores"].is_empty():
        measures = read_reference("people_promise_measures").select(
            "measure_id", "measure_name", measure_kind="kind", parent_measure_id="parent_measure_id"
        )
        tables["people_promise_scores"] = _shape(
            "people_promise_scores",
            scores.join(measures, on="measure_id").with_columns(
                value_source=pl.lit("benchmark"), source_file=pl.lit(file)
            ),
        )
    questions = parsed.questions.filter(pl.col("survey_year") == year)
    if not questions.is_empty():
        wide = questions.pivot(on="statistic", index=["org_code", "question_id", "source_question_id"], values="pct")
        bases = questions.group_by("org_code", "question_id").agg(pl.col("base").first())
        crosswalk = (
            scoring.crosswalk().filter(pl.col("survey_year") == year).select("question_id", "comparable_with_2024")
        )
        new_items = (
            wide.join(bases, on=["org_code", "question_id"])
            .join(
                tables["staff_survey_items"].select("org_code", "question_id"),
                on=["org_code", "question_id"],
                how="anti",
            )
            .join(crosswalk, on="question_id", how="left")
            .with_columns(
                survey_year=pl.lit(year),
                value_source=pl.lit("benchmark"),
                release_year=pl.lit(release),
                source_file=pl.lit(file),
            )
        )
        tables["staff_survey_items"] = pl.concat(
            [tables["staff_survey_items"], _shape("staff_survey_items", new_items)]
        )
    if tables["survey_organisations"].is_empty():
        orgs = _organisations(parsed.organisations, file=file, sheet=None, column="org_type_reporting_name")
        tables["survey_organisations"] = _shape(
            "survey_organisations",
            orgs.with_columns(survey_year=pl.lit(year), value_source=pl.lit("benchmark"), source_file=pl.lit(file)),
        )
