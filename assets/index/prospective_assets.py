"""Assets `index_prospective_validity` and `index_beside_oversight` (issue 15): thin code over prospective.py."""

import dagster as dg
import duckdb
import polars as pl

from assets.index.prospective import index_beside_oversight as beside_of
from assets.index.prospective import prospective_validity
from assets.indicators.framework import load_framework
from assets.staged.trust_context.assets import trust_context
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, transaction


def _doc(table: str) -> dict[str, object]:
    doc = dictionary.table(table)
    return {"description": doc.description, "metadata": doc.dagster_metadata(), "kinds": {"polars", "duckdb"}}


def _engagement(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT org_code, survey_year::BIGINT AS survey_year, score AS engagement FROM people_promise_scores "
        "WHERE measure_id = 'staff_engagement' AND score IS NOT NULL"
    ).pl()


@dg.asset(
    group_name="index",
    deps=[dg.AssetKey("readiness_index"), dg.AssetKey("people_promise_scores"), trust_context],
    **_doc("index_prospective_validity"),
)
def index_prospective_validity(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        index = con.sql("SELECT * FROM readiness_index ORDER BY ALL").pl()
        engagement = _engagement(con)
        context = con.sql("SELECT * FROM trust_context ORDER BY ALL").pl()
    measured = index.filter(pl.col("index_score").is_not_null())["survey_year"]
    # the latest surveyed autumn before the outcomes (2025/26): the newest year with an index
    year = int(measured.max()) if measured.len() else 0
    level = load_framework().settings.validity_interval_level
    frame = prospective_validity(index, engagement, context, read_reference("reporting_sectors"), year, level)
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "index_prospective_validity", frame)
        shown = frame.select("subject_b", "statistic", "estimate", "n").to_dicts()
        return dg.MaterializeResult(
            metadata={**table_metadata(con, "index_prospective_validity"), "estimates": dg.MetadataValue.json(shown)}
        )


@dg.asset(group_name="index", deps=[dg.AssetKey("readiness_index"), trust_context], **_doc("index_beside_oversight"))
def index_beside_oversight(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        index = con.sql("SELECT * FROM readiness_index ORDER BY ALL").pl()
        context = con.sql("SELECT * FROM trust_context ORDER BY ALL").pl()
    frame = beside_of(index, context, read_reference("reporting_sectors"))
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "index_beside_oversight", frame)
        return dg.MaterializeResult(metadata=table_metadata(con, "index_beside_oversight"))
