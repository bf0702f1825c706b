"""Which assets (and partitions) a build must materialize: Dagster's own stale status, and one case it leaves open.

Dagster decides from code versions and data versions (docs/dagster.md): an asset is stale when its code version
differs from the one its last materialization recorded, or an input's data version differs from the one it read.
Dagster does not compare versions across a time-partitioned upstream and an unpartitioned downstream (it skips
every dependency of that shape for speed); for those the rule here is that the downstream is stale when any
partition of the upstream was materialized after it (docs/decisions.md). An asset whose table is missing from
the warehouse is rebuilt whatever the instance says, so a deleted warehouse never passes for a current one.
"""

from collections.abc import Callable, Collection

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContext

REBUILD = (StaleStatus.STALE, StaleStatus.MISSING)


class _Loading(LoadingContext):
    """The request-scoped cache Dagster's resolver needs, for one planning step."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self._instance = instance
        self._loaders: dict = {}

    @property
    def instance(self) -> dg.DagsterInstance:
        return self._instance

    @property
    def loaders(self) -> dict:
        return self._loaders


class Staleness:
    def __init__(
        self,
        defs: "dg.Definitions | BaseAssetGraph",
        instance: dg.DagsterInstance,
        *,
        force: bool = False,
        present: Callable[[dg.AssetKey], bool] = lambda _key: True,
    ) -> None:
        # the definitions (command line), or a code location's asset graph (schedule and sensor evaluations)
        self.graph = defs.resolve_asset_graph() if isinstance(defs, dg.Definitions) else defs
        self.instance = instance
        self.force = force
        self.present = present
        self.refresh()

    def refresh(self) -> None:
        """Forget what was read from the instance: call after a run has recorded new materializations."""
        self._resolver = CachingStaleStatusResolver(self.instance, self.graph, _Loading(self.instance))
        self._last: dict[dg.AssetKey, int] | None = None

    def reasons(
        self, keys: Collection[dg.AssetKey], partition: str | None, always: Collection[dg.AssetKey] = ()
    ) -> dict[dg.AssetKey, str]:
        """Of `keys` (one job's assets, all of one partitioning), those to materialize for `partition`, each with
        why: forced, missing, a stale cause from Dagster, a newer upstream partition, or an input rebuilt now."""
        resolver = self._resolver
        if self._last is None:
            self._last = self._last_materialization_ids(self.graph.materializable_asset_keys)
        last = self._last
        chosen: dict[dg.AssetKey, str] = {}
        for key in self.graph.toposorted_asset_keys:
            if key not in keys:
                continue
            node = self.graph.get(key)
            pk = partition if node.is_partitioned else None
            if self.force:
                chosen[key] = "forced"
            elif key in always:
                chosen[key] = "checked on every run"
            elif not self.present(key):
                chosen[key] = "its output is missing"
            elif (status := resolver.get_status(key, pk)) in REBUILD:
                causes = resolver.get_stale_root_causes(key, pk)
                chosen[key] = "never materialized" if status == StaleStatus.MISSING else _describe(causes)
            elif not node.is_partitioned and (newer := self._newer_partitioned_parent(key, last)):
                chosen[key] = f"{newer.to_user_string()} has newer partitions"
            elif rebuilt := [p for p in node.parent_keys if p in chosen and p not in always]:
                chosen[key] = f"reads {rebuilt[0].to_user_string()}, rebuilt now"
        # a multi-asset runs whole: its other outputs are rebuilt with it, and so is what reads them
        for key in list(chosen):
            self._add_siblings(key, keys, chosen)
        for key in self.graph.toposorted_asset_keys:
            rebuilt = [p for p in self.graph.get(key).parent_keys if p in chosen and p not in always]
            if key in keys and key not in chosen and rebuilt:
                chosen[key] = f"reads {rebuilt[0].to_user_string()}, rebuilt now"
                self._add_siblings(key, keys, chosen)
        return chosen

    def _add_siblings(self, key: dg.AssetKey, keys: Collection[dg.AssetKey], chosen: dict[dg.AssetKey, str]) -> None:
        for sibling in self.graph.get(key).execution_set_asset_keys:
            if sibling in keys:
                chosen.setdefault(sibling, f"computed with {key.to_user_string()}")

    def _last_materialization_ids(self, keys: Collection[dg.AssetKey]) -> dict[dg.AssetKey, int]:
        ids = {}
        for record in self.instance.get_asset_records(list(keys)):
            entry = record.asset_entry
            if entry.last_materialization_record is not None:
                ids[entry.asset_key] = entry.last_materialization_record.storage_id
        return ids

    def _newer_partitioned_parent(self, key: dg.AssetKey, last: dict[dg.AssetKey, int]) -> dg.AssetKey | None:
        own = last.get(key, -1)
        for parent in sorted(self.graph.get(key).parent_keys):
            if self.graph.get(parent).is_partitioned and last.get(parent, -1) > own:
                return parent
        return None


def _describe(causes) -> str:
    if not causes:
        return "stale"
    cause = causes[0]
    return f"{cause.asset_key.to_user_string()} {cause.reason}"
