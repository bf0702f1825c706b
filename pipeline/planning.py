"""Which runs a build needs for a partitioned dataset: its stale partitions, grouped into ranges.

Shared by the command line (pipeline/runner.py) and the monthly refresh (pipeline/schedules.py). A range is a run
of consecutive partitions (in the partitions definition's order) that need the same assets; each becomes one run
(`BackfillPolicy.single_run()`), so a cold build of a dataset is one run, and a rerun in which one month's file
changed is one run of that month.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from pipeline.staleness import Staleness


@dataclass(frozen=True)
class PartitionRange:
    keys: tuple[str, ...]  # consecutive partitions, oldest first
    assets: frozenset[dg.AssetKey]

    @property
    def first(self) -> str:
        return self.keys[0]

    @property
    def last(self) -> str:
        return self.keys[-1]

    def label(self, dataset: str) -> str:
        first, last = self.first[:7], self.last[:7]
        return f"{dataset} {first}" if first == last else f"{dataset} {first}..{last}"

    def tags(self) -> dict[str, str]:
        """Run tags that make a run cover the range (Dagster's own backfill tags)."""
        return {ASSET_PARTITION_RANGE_START_TAG: self.first, ASSET_PARTITION_RANGE_END_TAG: self.last}


def stale_ranges(
    staleness: Staleness,
    asset_keys: Collection[dg.AssetKey],
    order: Sequence[str],
    wanted: Collection[str],
    always: Collection[dg.AssetKey] = (),
) -> list[PartitionRange]:
    """The `wanted` partitions whose assets (of `asset_keys`) must be materialized, as ranges of consecutive
    partitions needing the same assets."""
    position = {key: i for i, key in enumerate(order)}
    ranges: list[PartitionRange] = []
    for key in sorted((k for k in wanted if k in position), key=position.__getitem__):
        assets = frozenset(staleness.reasons(asset_keys, key, always))
        if not assets:
            continue
        previous = ranges[-1] if ranges else None
        if previous and previous.assets == assets and position[previous.last] + 1 == position[key]:
            ranges[-1] = PartitionRange((*previous.keys, key), assets)
        else:
            ranges.append(PartitionRange((key,), assets))
    return ranges
