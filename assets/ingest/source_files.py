"""Observable source assets: the publishers' files, one per raw_<dataset> asset, partitioned like it.

A source's data version (per partition) is the SHA-256 of the files that partition reads, so Dagster knows a
month's raw and staged tables are current when its file is byte-for-byte the one they were built from, and stale
when it is not. Observing reads the snapshot files (14 MB, a few tens of milliseconds) or, in web mode, fetches
through the verified download cache.
"""

import hashlib

import dagster as dg

# the raw assets register their resolvers on import
from assets.ingest import engagement_panel, ods, performance, staff_survey  # noqa: F401
from assets.ingest.raw_files import SOURCES, SourceSpec, source_key
from pipeline.errors import SourceUnavailableError
from pipeline.fetch.http import DownloadError
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile, sha256_of


def files_version(files: list[SourceFile]) -> str:
    """SHA-256 over the files' own SHA-256s (computed from the bytes on disk, not taken from a manifest)."""
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: (f.product, f.period)):
        digest.update(f"{f.product}\0{f.period}\0{sha256_of(f.path)}\n".encode())
    return digest.hexdigest()


def observed_versions(spec: SourceSpec, source: SourceResource, partitions: list[str | None]) -> dict[str | None, str]:
    """Data version per partition the source can supply now; a partition it cannot supply has none."""
    versions: dict[str | None, str] = {}
    for key in partitions:
        try:
            versions[key] = files_version(spec.resolve(source, key))
        except (SourceUnavailableError, DownloadError):
            continue
    return versions


def available_partitions(spec: SourceSpec, source: SourceResource) -> list[str]:
    """The partitions of the dataset that the source lists (the snapshot manifest or the publishers' catalogues)."""
    assert spec.partitions_def is not None
    from pipeline.partitions import PARTITIONED_DATASETS

    dataset = next(d for d in PARTITIONED_DATASETS if d.dataset == spec.dataset)
    keys = set(spec.partitions_def.get_partition_keys())
    listed = {p for product in dataset.products for p in source.available(dataset.dataset, product)}
    return sorted(keys & listed)


def source_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.observable_source_asset(
        key=source_key(spec.dataset),
        group_name="ingest",
        partitions_def=spec.partitions_def,
        description=f"The publisher's {spec.dataset} files as the source offers them; data version: their SHA-256.",
    )
    def _observe(source: SourceResource) -> dg.DataVersion | dg.DataVersionsByPartition:
        if spec.partitions_def is None:
            return dg.DataVersion(observed_versions(spec, source, [None]).get(None, "unavailable"))
        versions = observed_versions(spec, source, list(available_partitions(spec, source)))
        return dg.DataVersionsByPartition({k: v for k, v in versions.items() if k is not None})

    return _observe


source_assets = [source_asset(spec) for spec in SOURCES.values()]


def record_observations(instance: dg.DagsterInstance, source: SourceResource) -> dict[dg.AssetKey, int]:
    """Observe every source as its observable source asset does, and record each partition's data version in the
    instance when it differs from the one last recorded (an unchanged file records nothing). Returns, per source,
    how many partitions have a new version."""
    from dagster._core.definitions.data_version import DATA_VERSION_TAG

    changed: dict[dg.AssetKey, int] = {}
    for spec in SOURCES.values():
        key = source_key(spec.dataset)
        partitions: list[str | None] = (
            [None] if spec.partitions_def is None else list(available_partitions(spec, source))
        )
        latest = _latest_versions(instance, key, spec.partitions_def is not None)
        for partition, version in observed_versions(spec, source, partitions).items():
            if latest.get(partition) == version:
                continue
            instance.report_runless_asset_event(
                dg.AssetObservation(asset_key=key, partition=partition, tags={DATA_VERSION_TAG: version})
            )
            changed[key] = changed.get(key, 0) + 1
    return changed


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
