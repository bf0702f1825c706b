"""The Dagster code location: every asset, check, job, schedule and resource of the pipeline."""

import warnings
from functools import cache

import dagster as dg

import assets
from pipeline.code_versions import with_code_versions
from pipeline.jobs import all_jobs
from pipeline.resources import SourceMode, default_resources
from pipeline.schedules import all_schedules, all_sensors
from pipeline.sensors import run_failure_summary

# observable source assets and DataVersionsByPartition are marked beta; the project relies on them on purpose
warnings.filterwarnings("ignore", category=dg.BetaWarning)


@cache
def project_assets() -> tuple[list[dg.SourceAsset], list[dg.AssetsDefinition]]:
    """The observable source assets, and every other asset with its derived code version (loaded once)."""
    loaded = dg.load_assets_from_package_module(assets)
    sources = [a for a in loaded if isinstance(a, dg.SourceAsset)]
    return sources, with_code_versions([a for a in loaded if isinstance(a, dg.AssetsDefinition)])


def build_definitions(
    source_mode: SourceMode | None = None,
    raw_dir: str | None = None,
    warehouse_path: str | None = None,
    published_dir: str | None = None,
    snapshot_dir: str | None = None,
) -> dg.Definitions:
    sources, materializable = project_assets()
    return dg.Definitions(
        assets=[*sources, *materializable],
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=all_jobs(materializable),
        schedules=all_schedules(),
        sensors=[run_failure_summary, *all_sensors()],
        resources=default_resources(source_mode, raw_dir, warehouse_path, published_dir, snapshot_dir),
        # DuckDB allows one writer process: run every step in the run's own process
        executor=dg.in_process_executor,
    )


defs = build_definitions()
