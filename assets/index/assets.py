"""The factors and index stages: factor and barrier scores and the readiness index (one Monte Carlo run, one
multi-asset), rank sensitivity, year-on-year change and validity evidence. All unpartitioned, rebuilt only when
`indicators` (or, for validity, the performance tables and the engagement panel) or the code and framework change.
The pure functions they call are in assets/factors and assets/index; the blocking checks below run the rules of
assets/index/checks.py on what was written.
"""

from collections.abc import Callable, Iterator

import dagster as dg
import duckdb
import polars as pl

from assets.index import checks
from assets.index.change import year_on_year_change
from assets.index.readiness import readiness_tables
from assets.index.sensitivity import rank_sensitivity
from assets.index.trend import readiness_trend as trend_of
from assets.index.validity import index_validity as validity_of
from assets.index.validity import read_engagement_panel
from assets.indicators.assets import indicators
from assets.indicators.framework import load_framework
from assets.ingest.engagement_panel import DATASET as PANEL_DATASET
from assets.ingest.engagement_panel import raw_engagement_panel
from assets.ingest.raw_files import record_files_used, recorded_files
from assets.staged.performance.assets import performance_annual
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.sources import SourceFile
from pipeline.warehouse import WarehouseResource, replace_table, table_exists, transaction

SCORE_TABLES = {"factor_scores": "factors", "barrier_scores": "factors", "readiness_index": "index"}


def _read(con: duckdb.DuckDBPyConnection, table: str) -> pl.DataFrame:
    if not table_exists(con, table):
        raise dg.Failure(f"table {table} has not been built")
    return con.sql(f'SELECT * FROM "{table}" ORDER BY ALL').pl()  # fixed order: same sums, same bytes on a re-run


def _doc(table: str) -> dict[str, object]:
    doc = dictionary.table(table)
    return {"description": doc.description, "metadata": doc.dagster_metadata(), "kinds": {"polars", "duckdb"}}


def _write(
    warehouse: WarehouseResource, frames: dict[str, pl.DataFrame], source_files: list[SourceFile] | None = None
) -> dict[str, dict[str, object]]:
    """Replace every table in one transaction (and record the source files read directly, for build_info);
    the tables' metadata."""
    with warehouse.get_connection() as con:
        with transaction(con):
            for table, frame in frames.items():
                replace_table(con, table, frame)
            if source_files:
                record_files_used(con, source_files[0].dataset, None, source_files)
        return {table: table_metadata(con, table) for table in frames}


def _group_sizes(index: pl.DataFrame) -> dict[str, dict[str, dict[str, int]]]:
    sizes = index.group_by("survey_year", "benchmarking_group").agg(trusts=pl.len(), ranked=pl.col("ranked").sum())
    return {
        str(year): {r["benchmarking_group"]: {"trusts": r["trusts"], "ranked": r["ranked"]} for r in part.to_dicts()}
        for (year,), part in sizes.sort("survey_year", "benchmarking_group").group_by(
            "survey_year", maintain_order=True
        )
    }


@dg.multi_asset(
    name="readiness_scores",
    specs=[
        dg.AssetSpec(table, group_name=group, deps=[indicators], **_doc(table)) for table, group in SCORE_TABLES.items()
    ],
    description="Factor and barrier scores and the readiness index from one seeded Monte Carlo run.",
)
def readiness_scores(warehouse: WarehouseResource) -> Iterator[dg.MaterializeResult]:
    with warehouse.get_connection() as con:
        table = _read(con, "indicators")
    framework = load_framework()
    tables = readiness_tables(table, framework)
    frames = {
        "factor_scores": tables.factor_scores,
        "barrier_scores": tables.barrier_scores,
        "readiness_index": tables.readiness_index,
    }
    metadata = _write(warehouse, frames)
    index = tables.readiness_index
    settings = framework.settings
    coverage = index.group_by("survey_year").agg(pl.col("coverage").median()).sort("survey_year")
    support = index.filter("ranked").group_by("survey_year", "suggested_support_type").len().sort(pl.all())
    for name, frame in (("factor_scores", tables.factor_scores), ("barrier_scores", tables.barrier_scores)):
        component = "factor_id" if name == "factor_scores" else "barrier"
        measured = frame.group_by("survey_year", component).agg(
            median_coverage=pl.col("coverage").median(), not_measured=(pl.col("status") == "not measured").sum()
        )
        yield dg.MaterializeResult(
            asset_key=name,
            metadata={
                **metadata[name],
                "coverage_by_year": dg.MetadataValue.json(
                    {
                        f"{r['survey_year']} {r[component]}": {k: r[k] for k in ("median_coverage", "not_measured")}
                        for r in measured.sort("survey_year", component).iter_rows(named=True)
                    }
                ),
                "monte_carlo": dg.MetadataValue.json({"draws": settings.mc_draws, "seed": settings.seed}),
            },
        )
    yield dg.MaterializeResult(
        asset_key="readiness_index",
        metadata={
            **metadata["readiness_index"],
            "survey_years": dg.MetadataValue.json(sorted(index["survey_year"].unique().to_list())),
            "trusts": index.height,
            "ranked_trusts": int(index["ranked"].sum()),
            "groups_and_sizes": dg.MetadataValue.json(_group_sizes(index)),
            "median_coverage_by_year": dg.MetadataValue.json(dict(coverage.iter_rows())),
            "min_index_coverage": settings.min_index_coverage,
            "monte_carlo": dg.MetadataValue.json(
                {"draws": settings.mc_draws, "seed": settings.seed, "interval_level": settings.interval_level}
            ),
            "suggested_support_types": dg.MetadataValue.json({f"{y} {t}": n for y, t, n in support.iter_rows()}),
        },
    )


def _rows_check(
    asset: str, name: str, description: str, find: Callable[[pl.DataFrame], pl.DataFrame]
) -> dg.AssetChecksDefinition:
    """A blocking check that fails when `find` returns any row of the asset's table, naming their keys."""
    keys = list(dictionary.table(asset).primary_key)

    @dg.asset_check(asset=asset, name=name, blocking=True, description=description)
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            bad = find(_read(con, asset))
        examples = [", ".join(str(v) for v in row) for row in bad.select(keys).head(5).iter_rows()]
        return dg.AssetCheckResult(
            passed=bad.is_empty(),
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{bad.height} row(s) break the rule, e.g. ({'); ('.join(examples)})" if bad.height else "ok",
            metadata={"failing_rows": bad.height, "examples": dg.MetadataValue.json(examples)},
        )

    return _check


INTERVAL_RULE = "Every scored row has its 90% interval and low <= point <= high."
score_checks = [
    check
    for table in ("factor_scores", "barrier_scores")
    for check in (
        _rows_check(table, f"{table}_intervals_contain_scores", INTERVAL_RULE, checks.score_intervals_out_of_order),
        _rows_check(
            table, f"{table}_coverage_in_unit_interval", "coverage is in [0, 1].", checks.coverage_outside_unit_interval
        ),
        _rows_check(
            table,
            f"{table}_unmeasured_are_null",
            "A component without data is null and 'not measured', never a filled-in 0; a measured one has a score.",
            checks.unmeasured_with_score,
        ),
    )
]
index_checks = [
    _rows_check(
        "readiness_index",
        "index_intervals_contain_points",
        "index_lo <= index_score <= index_hi and rank_lo <= rank_in_group <= rank_hi on every row.",
        checks.index_intervals_out_of_order,
    ),
    _rows_check(
        "readiness_index",
        "ranked_trusts_have_intervals",
        "Every ranked trust has an index interval and a rank interval; unranked trusts carry no rank.",
        checks.ranked_without_intervals,
    ),
    _rows_check(
        "readiness_index",
        "ranks_within_group",
        "rank_in_group, rank_lo and rank_hi lie in 1..n_in_group, and n_in_group counts the group's ranked trusts.",
        checks.ranks_outside_group,
    ),
    _rows_check(
        "readiness_index",
        "index_coverage_in_unit_interval",
        "coverage is in [0, 1].",
        checks.coverage_outside_unit_interval,
    ),
    _rows_check(
        "readiness_index",
        "unmeasured_index_is_null",
        "A trust without any measured factor has no index (never a filled-in 0).",
        checks.unmeasured_index_with_score,
    ),
]


@dg.asset_check(
    asset="barrier_scores",
    name="barriers_are_not_copies_of_factors",
    blocking=True,
    additional_deps=[dg.AssetKey("factor_scores")],
    description=(
        "No barrier's score correlates above barrier_factor_max_correlation (method_settings.csv) with any factor's "
        "score within a benchmarking group and year of at least min_peers trusts."
    ),
)
def barriers_are_not_copies_of_factors(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    settings = load_framework().settings
    with warehouse.get_connection() as con:
        copies = checks.barrier_factor_copies(
            _read(con, "factor_scores"),
            _read(con, "barrier_scores"),
            settings.barrier_factor_max_correlation,
            settings.min_peers,
        )
    examples = [
        f"{r['survey_year']} {r['benchmarking_group']}: {r['barrier']} ~ factor {r['factor_id']} r = {r['r']:.3f}"
        for r in copies.head(5).iter_rows(named=True)
    ]
    return dg.AssetCheckResult(
        passed=copies.is_empty(),
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(examples) if examples else "ok",
        metadata={
            "ceiling": settings.barrier_factor_max_correlation,
            "pairs_above": copies.height,
            "examples": dg.MetadataValue.json(examples),
        },
    )


factor_scores_expectations = gx_check("factor_scores")
barrier_scores_expectations = gx_check("barrier_scores")
readiness_index_expectations = gx_check("readiness_index")


def _from_indicators(
    warehouse: WarehouseResource, table: str, build: Callable[[pl.DataFrame], pl.DataFrame]
) -> tuple[pl.DataFrame, dict[str, object]]:
    """Rebuild `table` from `indicators`; (the new frame, its metadata)."""
    with warehouse.get_connection() as con:
        source = _read(con, "indicators")
    frame = build(source)
    return frame, _write(warehouse, {table: frame})[table]


@dg.asset(group_name="index", deps=[indicators], **_doc("index_sensitivity"))
def index_sensitivity(warehouse: WarehouseResource) -> dg.MaterializeResult:
    frame, metadata = _from_indicators(warehouse, "index_sensitivity", lambda t: rank_sensitivity(t, load_framework()))
    summary = frame.group_by("survey_year", "scenario").agg(
        median_abs_rank_shift=pl.col("abs_rank_shift").median(),
        share_unmoved=(pl.col("abs_rank_shift") == 0).mean(),
        largest_shift=pl.col("abs_rank_shift").max(),
    )
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "by_scenario": dg.MetadataValue.json(
                {
                    f"{r['survey_year']} {r['scenario']}": {
                        k: r[k] for k in ("median_abs_rank_shift", "share_unmoved", "largest_shift")
                    }
                    for r in summary.sort("survey_year", "scenario").iter_rows(named=True)
                }
            ),
        }
    )


@dg.asset(group_name="index", deps=[indicators], **_doc("readiness_trend"))
def readiness_trend(warehouse: WarehouseResource) -> dg.MaterializeResult:
    frame, metadata = _from_indicators(warehouse, "readiness_trend", lambda t: trend_of(t, load_framework()))
    sets = frame["indicator_set"].unique().to_list()
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "indicator_set": sets[0] if sets else "no indicator is measured in every year",
            "trusts_by_year": dg.MetadataValue.json(
                {
                    str(y): n
                    for y, n in frame.group_by("survey_year")
                    .agg(pl.col("org_code").n_unique())
                    .sort("survey_year")
                    .iter_rows()
                }
            ),
        }
    )


readiness_trend_expectations = gx_check("readiness_trend")


@dg.asset(group_name="index", deps=[indicators], **_doc("readiness_change"))
def readiness_change(warehouse: WarehouseResource) -> dg.MaterializeResult:
    frame, metadata = _from_indicators(
        warehouse, "readiness_change", lambda t: year_on_year_change(t, load_framework())
    )
    summary = frame.group_by("survey_year", "component").agg(
        trusts=pl.len(), beyond_sampling_error=pl.col("exceeds_sampling_error").sum()
    )
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "changes_beyond_sampling_error": dg.MetadataValue.json(
                {
                    f"{y} {c}": {"trusts": n, "beyond": b}
                    for y, c, n, b in summary.sort("survey_year", "component").iter_rows()
                }
            ),
        }
    )


@dg.asset(
    group_name="index",
    deps=[
        indicators,
        dg.AssetKey("factor_scores"),
        performance_annual,
        dg.AssetKey("people_promise_scores"),
        raw_engagement_panel,
    ],
    **_doc("index_validity"),
)
def index_validity(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        (panel_file,) = recorded_files(con, PANEL_DATASET, None)
        inputs = {
            table: _read(con, table)
            for table in ("indicators", "factor_scores", "performance_annual", "people_promise_scores")
        }
    frame = validity_of(
        inputs["indicators"],
        inputs["factor_scores"],
        load_framework(),
        inputs["performance_annual"],
        read_engagement_panel(panel_file.path),
        inputs["people_promise_scores"],
    )
    metadata = _write(warehouse, {"index_validity": frame}, [panel_file])["index_validity"]
    outcomes = frame.filter(pl.col("validity_check") == "outcome_association")
    published = frame.filter(pl.col("published_estimate").is_not_null())
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "outcome_associations": dg.MetadataValue.json(
                {
                    f"{r['period']} {r['subject_b']}": {"n": r["n"], "r": r["estimate"], "ci": [r["ci_lo"], r["ci_hi"]]}
                    for r in outcomes.sort("period", "subject_b").iter_rows(named=True)
                }
            ),
            "published_comparison": dg.MetadataValue.json(
                {
                    f"{r['period']} {r['statistic']}": {
                        "estimate": r["estimate"],
                        "ci": [r["ci_lo"], r["ci_hi"]],
                        "published": r["published_estimate"],
                        "n": r["n"],
                    }
                    for r in published.iter_rows(named=True)
                }
            ),
            "engagement_panel": f"{panel_file.official_name} (sha256 {panel_file.sha256[:12]}…)",
        }
    )
