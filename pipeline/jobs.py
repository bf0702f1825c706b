"""Jobs: one per partitioned dataset, plus the unpartitioned layers before and after them.

Dagster cannot run assets with different partitions in one run, so a full build runs the reference
layer, then each partitioned dataset (one run per range of its stale partitions), then everything downstream.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg

from pipeline.memory import return_freed_memory
from pipeline.partitions import PARTITIONED_DATASETS

if TYPE_CHECKING:  # not exported by dagster's public API
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

REFERENCE_JOB = "reference_job"
DOWNSTREAM_JOB = "downstream_job"


@dg.success_hook(name="return_freed_memory")
def return_freed_memory_after_step(_context: dg.HookContext) -> None:
    """Hand what the step freed back to the operating system (pipeline/memory.py, decision 36)."""
    return_freed_memory()


HOOKS = {return_freed_memory_after_step}


def graph_layers(all_assets: Sequence[dg.AssetsDefinition]) -> tuple[dg.AssetSelection, dg.AssetSelection]:
    """Unpartitioned assets that partitioned ones read (reference), and every other unpartitioned asset."""
    partitioned = dg.AssetSelection.assets(*[a for a in all_assets if a.partitions_def is not None])
    unpartitioned = dg.AssetSelection.assets(*[a for a in all_assets if a.partitions_def is None])
    reference = unpartitioned & partitioned.upstream(include_self=False)
    return reference, unpartitioned - reference


def all_jobs(all_assets: Sequence[dg.AssetsDefinition]) -> list["UnresolvedAssetJobDefinition"]:
    reference, downstream = graph_layers(all_assets)
    jobs = [
        dg.define_asset_job(REFERENCE_JOB, selection=reference, description="Reference data: ODS trusts.", hooks=HOOKS),
        dg.define_asset_job(
            DOWNSTREAM_JOB,
            selection=downstream,
            description="Everything built from all partitions: organisations, indicators, index, publication.",
            hooks=HOOKS,
        ),
    ]
    for dataset in PARTITIONED_DATASETS:
        members = [a for a in all_assets if a.partitions_def == dataset.partitions_def]
        if not members:
            continue
        jobs.append(
            dg.define_asset_job(
                dataset.job_name,
                selection=dg.AssetSelection.assets(*members),
                description=dataset.description,
                hooks=HOOKS,
            )
        )
    return jobs
