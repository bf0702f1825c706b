"""The offline HTML report as a Dagster asset, built from the published DuckDB file right after it is swapped in."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from pydantic import Field

from assets.publish.atomic import remove_stale_temps
from assets.publish.charts.export import markdown_image
from assets.publish.published_database import published_database
from assets.publish.report.build import MANIFEST, build_report
from assets.publish.report.inputs import read_report_inputs
from assets.publish.report.site_check import report_problems
from pipeline.resources import PublishTargetResource

REPORT_DIR_NAME = "report"
# the chart shown in the Dagster UI: the index page's, which covers every ranked trust
UI_CHART = "images/validity.svg"


class ReportConfig(dg.Config):
    survey_year: int | None = Field(
        default=None, description="Survey year to report on; empty for the latest year in which trusts are ranked."
    )


def report_directory(publish_target: PublishTargetResource) -> Path:
    return publish_target.directory / REPORT_DIR_NAME


def _chart_markdown(report: Path) -> str:
    svg = report / UI_CHART
    if not svg.is_file():
        return "No index-level chart in this report (no estimable validity association)."
    return markdown_image(svg=svg.read_text(encoding="utf-8"), alt_text="Index against independent outcomes")


def report_metadata(report: Path) -> dict[str, Any]:
    """What the Dagster UI shows: a link to the report, what it covers and its chart, read from the built folder."""
    manifest = json.loads((report / MANIFEST).read_text(encoding="utf-8"))
    files = [p for p in report.rglob("*") if p.is_file()]
    return {
        "report": dg.MetadataValue.url((report / "index.html").as_uri()),
        "path": dg.MetadataValue.path(str(report / "index.html")),
        "survey_year": manifest["survey_year"],
        "trusts": len(manifest["trusts"]),
        "ranked_trusts": len(manifest["ranked_trusts"]),
        "benchmarking_groups": len(manifest["groups"]),
        "pages": sum(1 for p in files if p.suffix == ".html"),
        "bytes": sum(p.stat().st_size for p in files),
        "chart": dg.MetadataValue.md(_chart_markdown(report)),
    }


@dg.asset(
    group_name="publish",
    deps=[published_database],
    kinds={"html", "altair"},
    description=(
        "The offline HTML report in data/published/report/: index.html, one page per benchmarking group and one "
        "per trust, with charts, CSV downloads and search, for one survey year (default: the latest ranked year), "
        "built from the published DuckDB file so that it shows exactly what was published, and swapped in whole."
    ),
)
def published_report(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    publish_target: PublishTargetResource,
) -> dg.MaterializeResult:
    report = report_directory(publish_target)
    report.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(report.parent, f"{REPORT_DIR_NAME}.tmp-*")
    summary = build_report(read_report_inputs(publish_target.database_path, config.survey_year), report)
    for skipped in summary.skipped_charts:
        context.log.warning(f"chart not drawn: {skipped}")
    return dg.MaterializeResult(
        metadata={
            **report_metadata(report),
            "charts": summary.charts,
            "seconds": round(summary.seconds, 1),
            "skipped_charts": dg.MetadataValue.json(summary.skipped_charts),
        }
    )


@dg.asset_check(
    asset=published_report,
    description=(
        "The report has index.html, a page for every benchmarking group and every ranked trust of its survey year "
        "in the published file, and no page loads or links to anything over the network."
    ),
)
def published_report_complete(publish_target: PublishTargetResource) -> dg.AssetCheckResult:
    report = report_directory(publish_target)
    if not (report / MANIFEST).is_file():
        return dg.AssetCheckResult(passed=False, metadata={"problems": f"no report at {report}"})
    year = json.loads((report / MANIFEST).read_text(encoding="utf-8"))["survey_year"]
    con = duckdb.connect(str(publish_target.database_path), read_only=True)
    try:
        groups = [
            g
            for (g,) in con.execute(
                "SELECT DISTINCT benchmarking_group FROM readiness_index WHERE survey_year = ? ORDER BY 1",
                [year],
            ).fetchall()
        ]
        ranked = [
            c
            for (c,) in con.execute(
                "SELECT org_code FROM readiness_index WHERE survey_year = ? AND rank_in_group IS NOT NULL ORDER BY 1",
                [year],
            ).fetchall()
        ]
    finally:
        con.close()
    problems = report_problems(report, groups, ranked)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={
            "survey_year": year,
            "groups_expected": len(groups),
            "ranked_trusts_expected": len(ranked),
            "problems": dg.MetadataValue.json(problems[:50]),
        },
    )
