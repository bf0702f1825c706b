"""The published SPC table: an XmR chart of every organisation's monthly performance series."""

from datetime import date

import dagster as dg
import duckdb

from assets.publish.charts.common import caption
from assets.publish.charts.export import markdown_image
from assets.publish.charts.trends import spc_summary_chart
from assets.publish.report.build import SOURCES
from assets.publish.spc.xmr import spc_monthly_table
from assets.staged.performance.assets import performance_measures, performance_monthly
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.warehouse import WarehouseResource, replace_table, transaction

DOC = dictionary.table("spc_monthly")


@dg.asset(
    group_name="publish",
    deps=[performance_monthly, performance_measures],
    description=DOC.description,
    metadata=DOC.dagster_metadata(),
    kinds={"polars", "duckdb"},
)
def spc_monthly(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        series = con.sql("SELECT org_code, period_month, measure, value FROM performance_monthly").pl()
        directions = con.sql("SELECT measure, improvement_direction FROM performance_measures").pl()
        table = spc_monthly_table(series, directions)
        with transaction(con):
            replace_table(con, "spc_monthly", table)
        counts = dict(con.sql("SELECT point_type, count(*) FROM spc_monthly GROUP BY ALL ORDER BY ALL").fetchall())
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "spc_monthly"),
                "points_by_type": dg.MetadataValue.json(counts),
                "chart": _chart(con),
            }
        )


def _chart(con: duckdb.DuckDBPyConnection) -> dg.MetadataValue:
    """The Dagster UI's view of the table: the share of points of each variation type, per measure."""
    counts = con.sql(
        "SELECT measure, point_type, count(*) AS points FROM spc_monthly WHERE point_type IS NOT NULL GROUP BY ALL"
    ).pl()
    if counts.is_empty():
        return dg.MetadataValue.md("No series to chart.")
    chart = spc_summary_chart(
        counts,
        con.sql("SELECT measure, label FROM performance_measures").pl(),
        caption=caption(SOURCES["spc"], date.today()),
    )
    return dg.MetadataValue.md(markdown_image(chart, alt_text="Variation types per measure"))


spc_monthly_expectations = gx_check(spc_monthly)
