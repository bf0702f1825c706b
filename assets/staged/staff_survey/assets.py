"""Staged NHS Staff Survey tables, one survey year per partition, and their blocking checks."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.ingest.raw_files import partitions_with_files, record_files_used, recorded_files
from assets.ingest.staff_survey import DATASET, raw_staff_survey
from assets.staged.staff_survey import scoring
from assets.staged.staff_survey.build import TABLES, build_survey_year, extract_items
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.partition_events import already_recorded, record_partition
from pipeline.partitions import SURVEY_YEARS
from pipeline.warehouse import WarehouseResource, replace_rows, table_exists, transaction

ASSET = "staff_survey_tables"
MAX_MEAN_ABS_DIFF = 0.01  # on the 0-10 scale (issue 4, item 8)
MAX_SOURCE_DIFF = 1e-6  # percentage points: extract and workbook carry the same published numbers


def _ddl(table: str) -> str:
    return dictionary.table(table).ddl()


@dg.multi_asset(
    name=ASSET,
    specs=[
        dg.AssetSpec(
            table,
            group_name="staged",
            deps=[raw_staff_survey],
            description=dictionary.table(table).description,
            metadata=dictionary.table(table).dagster_metadata(),
            kinds={"polars", "duckdb"},
        )
        for table in TABLES
    ],
    partitions_def=SURVEY_YEARS,
    # every year of a backfill in one run, each in its own transaction (docs/decisions.md)
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def staff_survey_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.Output]:
    """Per survey year: parse the year's files completely in memory, then replace the year's rows of all four
    tables at once."""
    for key, files in partitions_with_files(context, warehouse, DATASET, ASSET):
        year = int(key)
        where, params = "survey_year = ?", [year]
        survey = build_survey_year(files, year)
        validity = _validity_metadata(survey.validity)
        with warehouse.get_connection() as con:
            with transaction(con):
                for table in TABLES:
                    replace_rows(con, table, survey.tables[table], where, params, ddl=_ddl(table))
                record_files_used(con, DATASET, key, files)
            for table in TABLES:
                extra = {"sources": dg.MetadataValue.json(survey.metadata)} if table == "staff_survey_items" else {}
                if table == "people_promise_scores":
                    extra = validity
                meta = {**table_metadata(con, table, where, params), **extra}
                record_partition(context, dg.AssetKey(table), key, meta)
    for table in TABLES:
        yield already_recorded(table)


def _validity_metadata(validity: pl.DataFrame | None) -> dict[str, object]:
    if validity is None or validity.is_empty():
        return {"scoring_validity": "not applicable: no year with both item option breakdowns and official scores"}
    return {
        "scoring_validity": dg.MetadataValue.json(validity.to_dicts()),
        "scoring_validity_worst_tested_mad": float(validity.filter("tested")["mean_abs_diff"].max() or 0.0),
    }


staff_survey_items_expectations = gx_check(
    "staff_survey_items", partition_column="survey_year", partition_sql_type="INTEGER"
)
staff_survey_responses_expectations = gx_check(
    "staff_survey_responses", partition_column="survey_year", partition_sql_type="INTEGER"
)
people_promise_scores_expectations = gx_check(
    "people_promise_scores", partition_column="survey_year", partition_sql_type="INTEGER"
)
survey_organisations_expectations = gx_check(
    "survey_organisations", partition_column="survey_year", partition_sql_type="INTEGER"
)


def _years(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> list[int]:
    """The survey years being materialised (every year in the table outside a partitioned run)."""
    if context.has_partition_key or context.has_partition_key_range:
        return [int(key) for key in context.partition_keys]
    with warehouse.get_connection() as con:
        if not table_exists(con, "staff_survey_items"):
            return []
        return [
            year for (year,) in con.sql("SELECT DISTINCT survey_year FROM staff_survey_items ORDER BY 1").fetchall()
        ]


@dg.asset_check(
    asset="people_promise_scores",
    blocking=True,
    description=(
        "Scoring validity: every official sub-score that is a plain mean of items (data/reference/"
        "survey_subscore_items.csv, tested = true) is rebuilt from staff_survey_items.score_0_10 for every "
        f"organisation; the mean absolute difference must be under {MAX_MEAN_ABS_DIFF} on the 0-10 scale."
    ),
)
def scoring_validity(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    years = _years(context, warehouse)
    with warehouse.get_connection() as con:
        if not (table_exists(con, "staff_survey_items") and table_exists(con, "people_promise_scores")):
            return dg.AssetCheckResult(passed=False, description="the survey tables do not exist")
        where = "list_contains(?, survey_year)"
        items = con.execute(f"SELECT * FROM staff_survey_items WHERE {where}", [years]).pl()
        scores = con.execute(f"SELECT * FROM people_promise_scores WHERE {where}", [years]).pl()
    result = scoring.subscore_rebuild(items, scores)
    tested = result.filter("tested")
    if tested.is_empty():
        return dg.AssetCheckResult(
            passed=True,
            description="not applicable: these years have no item option breakdowns together with official scores",
            metadata={"survey_years": str(years)},
        )
    failing = tested.filter(pl.col("mean_abs_diff") >= MAX_MEAN_ABS_DIFF)
    lines = [f"{r['measure_id']}: {r['mean_abs_diff']:.4f}" for r in tested.iter_rows(named=True)]
    return dg.AssetCheckResult(
        passed=failing.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"rebuilt sub-scores differ from the official ones by mean |diff| {', '.join(lines)}"
            + (f"; over the {MAX_MEAN_ABS_DIFF} limit: {failing['measure_id'].to_list()}" if failing.height else "")
        ),
        metadata={"per_subscore": dg.MetadataValue.json(result.to_dicts()), "survey_years": str(years)},
    )


@dg.asset_check(
    asset="staff_survey_items",
    blocking=True,
    description=(
        "Where the trust-level extract and the organisational workbook both hold a year (2024 offline), every "
        "statistic the extract determines must equal the workbook's, and both must list the same organisations."
    ),
)
def extract_agrees_with_workbook(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    compared, problems = 0, []
    years = _years(context, warehouse)
    with warehouse.get_connection() as con:
        for year in years:
            files = {f.product: f for f in recorded_files(con, DATASET, str(year))}
            if not {"organisational_workbook", "trust_extract"} <= files.keys():
                continue
            workbook_items = con.execute("SELECT * FROM staff_survey_items WHERE survey_year = ?", [year]).pl()
            extract, organisations = extract_items(files["trust_extract"], year)
            surveyed = set(
                con.execute("SELECT org_code FROM survey_organisations WHERE survey_year = ?", [year]).pl()["org_code"]
            )
            if set(organisations["org_code"]) != surveyed:
                diff = sorted(set(organisations["org_code"]) ^ surveyed)[:10]
                problems.append(f"{year}: organisations differ between extract and workbook: {diff}")
            joined = extract.join(workbook_items, on=["org_code", "question_id"], suffix="_workbook")
            for stat in ("pct_favourable", "pct_unfavourable", "score_0_10", "base"):
                pairs = joined.filter(pl.col(stat).is_not_null())
                compared += pairs.height
                off = pairs.filter(
                    pl.col(f"{stat}_workbook").is_null()
                    | ((pl.col(stat) - pl.col(f"{stat}_workbook")).abs() > MAX_SOURCE_DIFF)
                )
                if off.height:
                    first = off.row(0, named=True)
                    problems.append(
                        f"{year} {stat}: {off.height} value(s) differ, e.g. {first['org_code']} {first['question_id']} "
                        f"extract {first[stat]} vs workbook {first[f'{stat}_workbook']}"
                    )
    if not compared and not problems:
        return dg.AssetCheckResult(
            passed=True, description="not applicable: no year has both the extract and a workbook"
        )
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or f"all {compared} overlapping values agree (to {MAX_SOURCE_DIFF})",
        metadata={"values_compared": compared},
    )
