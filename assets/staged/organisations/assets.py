"""The `organisations` table (unpartitioned): built after every survey year and the ODS trusts."""

import dagster as dg

from assets.staged.ods.assets import ods_trusts
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, sql_file, table_exists, transaction

DOC = dictionary.table("organisations")


@dg.asset(
    group_name="staged",
    deps=[ods_trusts, dg.AssetKey("survey_organisations")],
    description=DOC.description,
    metadata=DOC.dagster_metadata(),
    kinds={"duckdb"},
)
def organisations(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        if not table_exists(con, "survey_organisations"):
            raise dg.Failure("survey_organisations has not been built: run the staff survey partitions first")
        con.register("org_successors", read_reference("org_successors"))
        try:
            frame = con.sql(sql_file(__file__, "organisations.sql")).pl()
        finally:
            con.unregister("org_successors")
        with transaction(con):
            replace_table(con, "organisations", frame)
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "organisations"),
                "survey_only_organisations": frame.filter(~frame["in_ods"]).height,
                "ods_trusts_never_surveyed": frame.filter(frame["latest_survey_year"].is_null()).height,
            }
        )


organisations_expectations = gx_check(organisations)
