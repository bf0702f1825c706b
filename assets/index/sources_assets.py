"""Assets `index_periods` and `index_source_weights` (issue 15): thin code over sources.py."""

import dagster as dg
import duckdb
import polars as pl

from assets.index.sources import index_periods as periods_of
from assets.index.sources import source_parts, source_weights
from assets.indicators.build import context_survey_years
from assets.indicators.framework import CONTEXT_SOURCE, SURVEY_SOURCE, load_framework
from assets.staged.trust_context.assets import trust_context
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, transaction

PERFORMANCE_DATASETS = ["ae", "rtt", "cancer", "sickness"]


def _doc(table: str) -> dict[str, object]:
    doc = dictionary.table(table)
    return {"description": doc.description, "metadata": doc.dagster_metadata(), "kinds": {"polars", "duckdb"}}


def _indicator_datasets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """(survey_year, source, dataset) of every indicator with a normalised score in the build."""
    framework = load_framework()
    dataset_of = framework.indicators.select("indicator_id", "source", measure="key").join(
        framework.measures.select("source", "measure", "dataset"), on=["source", "measure"], how="left"
    )
    scored = con.sql("SELECT DISTINCT survey_year, indicator_id FROM indicators WHERE norm_score IS NOT NULL").pl()
    return scored.join(dataset_of, on="indicator_id").select(
        pl.col("survey_year").cast(pl.Int64), "source", pl.col("dataset").fill_null(pl.col("source"))
    )


@dg.asset(
    group_name="index",
    deps=[
        dg.AssetKey("indicators"),
        dg.AssetKey("performance_monthly"),
        dg.AssetKey("survey_organisations"),
        trust_context,
    ],
    **_doc("index_periods"),
)
def index_periods(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        years = [
            y
            for (y,) in con.sql(
                "SELECT DISTINCT survey_year::BIGINT FROM survey_organisations WHERE is_trust ORDER BY 1"
            ).fetchall()
        ]
        coverage = con.sql("SELECT DISTINCT dataset, period_month FROM performance_monthly").pl()
        used = _indicator_datasets(con)
        context = con.sql("SELECT dataset, measure, period FROM trust_context").pl()
    framework = load_framework()
    context_measures = framework.indicators.filter(pl.col("source") == CONTEXT_SOURCE)["measure"].to_list()
    context_periods = (
        context.filter(pl.col("measure").is_in(context_measures))
        .group_by("dataset")
        .agg(pl.col("period").unique().sort().str.join("; "))
        .sort("dataset")
    )
    windows = context_survey_years(read_reference("trust_context_datasets"), read_reference("context_window"), years)
    frame = periods_of(
        years,
        coverage,
        used,
        PERFORMANCE_DATASETS,
        windows,
        context_periods,
        framework.settings.financial_year_offset,
        framework.settings.min_months_covered,
    )
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "index_periods", frame)
        missing = frame.filter(pl.col("note").str.starts_with("not covered"))
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "index_periods"),
                "not_covered": dg.MetadataValue.json(
                    [f"{r['survey_year']} {r['dataset']}" for r in missing.iter_rows(named=True)]
                ),
            }
        )


@dg.asset(
    group_name="index", deps=[dg.AssetKey("indicators"), dg.AssetKey("readiness_index")], **_doc("index_source_weights")
)
def index_source_weights(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        indicators = con.sql("SELECT * FROM indicators ORDER BY ALL").pl()
        index = con.sql("SELECT org_code, survey_year, index_score FROM readiness_index ORDER BY ALL").pl()
    framework = load_framework()
    weights = framework.indicators.select("indicator_id", "factor_id", "weight")
    parts = source_parts(indicators, weights, framework.factors)
    frame = source_weights(parts, index.drop_nulls("index_score"))
    scenarios = {"factors.csv": _non_survey_shares(parts)} | {
        name: _non_survey_shares(source_parts(indicators, weights, framework.with_factor_weights(name).factors))
        for name in framework.factor_weight_scenario_names
    }
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "index_source_weights", frame)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "index_source_weights"),
                "effective_weights": dg.MetadataValue.json(
                    frame.select("survey_year", "benchmarking_group", "source", "variance_share").to_dicts()
                ),
                # issue 15's target under the other factor weights of factor_weight_scenarios.csv
                "non_survey_nominal_share_by_factor_weight_scenario": dg.MetadataValue.json(scenarios),
            }
        )


def _non_survey_shares(parts: pl.DataFrame) -> dict[str, float]:
    """'<year> <group>' -> the mean nominal share of the index weight of the indicators not from the staff survey."""
    shares = (
        parts.filter(pl.col("source") != SURVEY_SOURCE)
        .group_by("org_code", "survey_year", "benchmarking_group")
        .agg(pl.col("nominal").sum())
        .group_by("survey_year", "benchmarking_group")
        .agg(pl.col("nominal").mean().round(4))
        .sort("survey_year", "benchmarking_group")
    )
    return {f"{year} {group}": share for year, group, share in shares.iter_rows()}
