"""The indicators stage: the framework as a published catalogue, and the long `indicators` table.

Both are unpartitioned and rebuilt only when the staged survey or performance tables, the framework files, the
reference data or the code change. An invalid framework file stops the build: loading it raises InputDataError
naming the file, row and field, and the blocking `framework_validation` check also rejects an indicator that no
year of the built data provides.
"""

import dagster as dg
import duckdb
import polars as pl

from assets.indicators.build import build_indicators
from assets.indicators.framework import available_keys, judged_datasets, load_framework, validate_framework
from assets.indicators.framework import indicator_catalogue as catalogue_of
from assets.staged.performance.assets import performance_annual
from assets.staged.trust_context.assets import trust_context
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.errors import InputDataError
from pipeline.warehouse import WarehouseResource, replace_table, table_exists, transaction

SURVEY_TABLES = ("staff_survey_items", "people_promise_scores", "survey_organisations")
INPUT_TABLES = (*SURVEY_TABLES, "performance_annual", "trust_context")


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The staged tables the framework reads, whole (tens of thousands of rows), in a fixed row order: a partition
    rebuilt with the same rows lands elsewhere in the table, and sums of floats taken in another order can differ in
    the last bit, which would make a re-run publish different bytes."""
    missing = [t for t in INPUT_TABLES if not table_exists(con, t)]
    if missing:
        raise dg.Failure(f"{', '.join(missing)} not built yet: run the staff survey and performance partitions first")
    return {table: con.sql(f'SELECT * FROM "{table}" ORDER BY ALL').pl() for table in INPUT_TABLES}


def available(inputs: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return available_keys(
        inputs["staff_survey_items"],
        inputs["people_promise_scores"],
        inputs["performance_annual"],
        inputs["trust_context"],
    )


def _spec_kwargs(table: str) -> dict[str, object]:
    doc = dictionary.table(table)
    return {"description": doc.description, "metadata": doc.dagster_metadata(), "kinds": {"polars", "duckdb"}}


@dg.asset(
    group_name="indicators",
    deps=[*(dg.AssetKey(t) for t in SURVEY_TABLES), performance_annual, trust_context],
    **_spec_kwargs("indicator_catalogue"),
)
def indicator_catalogue(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        inputs = read_inputs(con)
    framework = load_framework()
    catalogue = catalogue_of(framework, available(inputs))
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "indicator_catalogue", catalogue)
        per_factor = catalogue.group_by("factor_id").agg(pl.len(), pl.col("weight").sum()).sort("factor_id")
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "indicator_catalogue"),
                "indicators_by_source": dg.MetadataValue.json(
                    dict(catalogue.group_by("source").len().sort("source").iter_rows())
                ),
                "indicators_and_weight_by_factor": dg.MetadataValue.json(
                    {f"factor_{f}": {"indicators": n, "weight": w} for f, n, w in per_factor.iter_rows()}
                ),
                "indicators_without_data": dg.MetadataValue.json(
                    catalogue.filter(pl.col("periods_available").is_null())["indicator_id"].to_list()
                ),
            }
        )


@dg.asset_check(
    asset=indicator_catalogue,
    blocking=True,
    description=(
        "The framework files load (every indicator row has a known source, a question of "
        "data/reference/question_catalogue.csv or a known rate measure, a factor 1-7, a polarity, a positive weight "
        "and a rationale) and every indicator is provided by at least one year of the built data; a failure names "
        "the file, row and field."
    ),
)
def framework_validation(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        inputs = read_inputs(con)
    try:
        provided = available(inputs)
        framework = load_framework()
        warnings = validate_framework(
            framework, provided, judged_datasets(framework, inputs["staff_survey_items"], provided)
        )
    except InputDataError as problem:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description=str(problem))
    return dg.AssetCheckResult(
        passed=True,
        description="the framework is valid" + (f"; not judged: {'; '.join(warnings)}" if warnings else ""),
        metadata={"unjudged_indicators": len(warnings)},
    )


@dg.asset(
    group_name="indicators",
    deps=[indicator_catalogue, *(dg.AssetKey(t) for t in SURVEY_TABLES), performance_annual, trust_context],
    **_spec_kwargs("indicators"),
)
def indicators(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        inputs = read_inputs(con)
    table = build_indicators(load_framework(), **inputs)
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "indicators", table)
        per_year = table.group_by("survey_year").agg(
            trusts=pl.col("org_code").n_unique(),
            indicators=pl.col("indicator_id").n_unique(),
            normalised=pl.col("norm_score").is_not_null().sum(),
        )
        value_types = table.group_by("survey_year", "value_type").len().sort("survey_year", "value_type")
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "indicators"),
                "survey_years": dg.MetadataValue.json(sorted(per_year["survey_year"].to_list())),
                "per_survey_year": dg.MetadataValue.json(
                    {
                        str(r["survey_year"]): {k: r[k] for k in ("trusts", "indicators", "normalised")}
                        for r in per_year.sort("survey_year").iter_rows(named=True)
                    }
                ),
                "value_types": dg.MetadataValue.json({f"{y} {t}": n for y, t, n in value_types.iter_rows()}),
            }
        )


indicator_catalogue_expectations = gx_check(indicator_catalogue)
indicators_expectations = gx_check(indicators)
