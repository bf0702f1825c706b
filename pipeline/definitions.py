"""The Dagster code location: every asset, check, job, schedule and resource of the pipeline."""

import dagster as dg

import assets
from pipeline.jobs import all_jobs
from pipeline.resources import SourceMode, default_resources
from pipeline.schedules import all_schedules, monthly_refresh_job
from pipeline.sensors import run_failure_summary


def build_definitions(
    source_mode: SourceMode | None = None,
    raw_dir: str | None = None,
    warehouse_path: str | None = None,
    published_dir: str | None = None,
    snapshot_dir: str | None = None,
) -> dg.Definitions:
    all_assets = dg.load_assets_from_package_module(assets)
    return dg.Definitions(
        assets=all_assets,
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=[*all_jobs(all_assets), monthly_refresh_job],
        schedules=all_schedules(),
        sensors=[run_failure_summary],
        resources=default_resources(source_mode, raw_dir, warehouse_path, published_dir, snapshot_dir),
        # DuckDB allows one writer process: run every step in the run's own process
        executor=dg.in_process_executor,
    )


defs = build_definitions()
