"""Observable source assets: the publishers' files, one per raw_<dataset> asset, partitioned like it.

A source's data version (per partition) is the SHA-256 of the files that partition reads, so Dagster knows a
month's raw and staged tables are current when its file is byte-for-byte the one they were built from, and stale
when it is not. Observing reads the snapshot files (14 MB, a few tens of milliseconds) or, in web mode, fetches
through the verified download cache.
"""

import hashlib
from dataclasses import dataclass, field

import dagster as dg

# the raw assets register their resolvers on import
from assets.ingest import engagement_panel, ods, performance, staff_survey  # noqa: F401
from assets.ingest.raw_files import SOURCES, SourceSpec, source_key
from pipeline.errors import SourceUnavailableError
from pipeline.fetch.http import DownloadError
from pipeline.partitions import dataset_named, sync_partitions
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile, sha256_of


def files_version(files: list[SourceFile]) -> str:
    """SHA-256 over the files' own SHA-256s (computed from the bytes on disk, not taken from a manifest)."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: (f.product, f.period)):
        digest.update(f"{f.product}\0{f.period}\0{sha256_of(f.path)}\n".encode())
    return digest.hexdigest()


def observed_versions(
    spec: SourceSpec, source: SourceResource, partitions: list[str | None], unavailable: dict[str, str] | None = None
) -> dict[str | None, str]:
    """Data version per partition the source can supply now; a partition it cannot supply has none (and its
    reason goes into `unavailable`, when given)."""
    versions: dict[str | None, str] = {}
    for key in partitions:
        try:
            versions[key] = files_version(spec.resolve(source, key))
        except (SourceUnavailableError, DownloadError) as gone:
            if unavailable is not None and key is not None:
                unavailable[key] = str(gone)
    return versions


def source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.observable_source_asset(
        key=source_key(spec.dataset),
        group_name="ingest",
        partitions_def=spec.partitions_def,
        description=f"The publisher's {spec.dataset} files as the source offers them; data version: their SHA-256. "
        "Observing a partitioned source also makes its dataset's partitions the periods the source lists.",
    )
    def _observe(
        context: dg.AssetExecutionContext, source: SourceResource
    ) -> dg.DataVersion | dg.DataVersionsByPartition:
        if spec.partitions_def is None:
            return dg.DataVersion(observed_versions(spec, source, [None]).get(None, "unavailable"))
        dataset = dataset_named(spec.dataset)
        listed = sync_partitions(context.instance, source, [dataset])[spec.dataset]
        versions = observed_versions(spec, source, list(listed))
        return dg.DataVersionsByPartition({k: v for k, v in versions.items() if k is not None})

    return _observe


source_assets = [source_asset(spec) for spec in SOURCES.values()]


@dataclass
class Observed:
    """What observing the sources found: how many partitions changed per source, and per partitioned dataset the
    periods the source lists but cannot supply (a manifest line whose file is gone), with the reason."""

    changed: dict[dg.AssetKey, int] = field(default_factory=dict)
    unavailable: dict[str, dict[str, str]] = field(default_factory=dict)


def record_observations(instance: dg.DagsterInstance, source: SourceResource) -> Observed:
    """Observe every source as its observable source asset does: make each dataset's partitions the periods the
    source lists, and record each partition's data version in the instance when it differs from the one last
    recorded (an unchanged file records nothing)."""
    from dagster._core.definitions.data_version import DATA_VERSION_TAG

    observed = Observed()
    listed = sync_partitions(instance, source)
    for spec in SOURCES.values():
        key = source_key(spec.dataset)
        partitions: list[str | None] = [None] if spec.partitions_def is None else list(listed[spec.dataset])
        latest = _latest_versions(instance, key, spec.partitions_def is not None)
        unavailable = observed.unavailable.setdefault(spec.dataset, {})
        for partition, version in observed_versions(spec, source, partitions, unavailable).items():
            if latest.get(partition) == version:
                continue
            instance.report_runless_asset_event(
                dg.AssetObservation(asset_key=key, partition=partition, tags={DATA_VERSION_TAG: version})
            )
            observed.changed[key] = observed.changed.get(key, 0) + 1
    return observed


def _latest_versions(instance: dg.DagsterInstance, key: dg.AssetKey, partitioned: bool) -> dict[str | None, str]:
    """The data version last recorded for each partition of a source (observations are recorded only on change,
    so there are few)."""
    from dagster._core.definitions.data_version import extract_data_version_from_entry
    from dagster._core.storage.event_log.base import AssetRecordsFilter

    latest: dict[str | None, str] = {}
    cursor = None
    while True:
        page = instance.fetch_observations(AssetRecordsFilter(asset_key=key), limit=1000, cursor=cursor, ascending=True)
        for record in page.records:
            version = extract_data_version_from_entry(record.event_log_entry)
            if version is not None:
                latest[record.partition_key if partitioned else None] = version.value
        if not page.has_more:
            return latest
        cursor = page.cursor
