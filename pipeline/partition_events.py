"""Materializations recorded partition by partition, for assets that build a range of partitions in one run.

A run over a partition range ends, in Dagster 1.13, with one materialization per partition of the range, all with
the same data version and the same input provenance, whatever the step did (dagster issues #17836, #21072). Two
things need more: a raw asset's data version is the checksum of that month's files, and a month the publisher lacks
must not be recorded as materialized. For those cases the asset logs one `AssetMaterialization` per partition it
built, with the tags Dagster itself would write (code version, data version, and each input's data version and
event pointer, read for that partition), and returns its output marked as already recorded: the mechanism Dagster
uses for partitioned observable source assets (`dagster/_core/definitions/source_asset.py`), so that the steps that
read the asset still run in the same run. See docs/decisions.md.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.data_version import (
    CODE_VERSION_TAG,
    DATA_VERSION_IS_USER_PROVIDED_TAG,
    DATA_VERSION_TAG,
    DEFAULT_DATA_VERSION,
    NULL_EVENT_POINTER,
    compute_logical_data_version,
    extract_data_version_from_entry,
    get_input_data_version_tag,
    get_input_event_pointer_tag,
)
from dagster._core.definitions.source_asset import SYSTEM_METADATA_KEY_SOURCE_ASSET_OBSERVATION

UNAVAILABLE = "unavailable_in_this_run"


def provenance_tags(
    context: dg.AssetExecutionContext, asset_key: dg.AssetKey, partition: str, data_version: str | None = None
) -> dict[str, str]:
    """The data-version tags of one partition's materialization, as Dagster's own step output would write them,
    except that each partitioned input's version and pointer are that partition's own."""
    graph = context.job_def.asset_layer.asset_graph
    code_version = context.assets_def.code_versions_by_key.get(asset_key) or context.run_id
    tags: dict[str, str] = {CODE_VERSION_TAG: code_version}
    inputs: dict[dg.AssetKey, dg.DataVersion] = {}
    for parent in sorted(context.assets_def.asset_deps[asset_key]):
        node = graph.get(parent)
        # materializations first, then observations (a source's): inside a subset run, assets outside the
        # selection look external to the job, so `is_external` cannot tell which to read
        record = context.instance.get_latest_data_version_record(
            parent, None, partition if node.is_partitioned else None
        )
        version = (extract_data_version_from_entry(record.event_log_entry) if record else None) or DEFAULT_DATA_VERSION
        inputs[parent] = version
        tags[get_input_data_version_tag(parent)] = version.value
        tags[get_input_event_pointer_tag(parent)] = str(record.storage_id) if record else NULL_EVENT_POINTER
    if data_version is None:
        tags[DATA_VERSION_TAG] = compute_logical_data_version(code_version, inputs).value
    else:
        tags[DATA_VERSION_TAG] = data_version
        tags[DATA_VERSION_IS_USER_PROVIDED_TAG] = "true"
    return tags


def record_partition(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    partition: str,
    metadata: Mapping[str, Any],
    data_version: str | None = None,
) -> None:
    """Log one partition's materialization now (it is in the instance before the next partition starts)."""
    context.log_event(
        dg.AssetMaterialization(
            asset_key=asset_key,
            partition=partition,
            metadata=dict(metadata),
            tags=provenance_tags(context, asset_key, partition, data_version),
        )
    )


def already_recorded(output_name: str = "result") -> dg.Output:
    """The step's output, for a step that logged its partitions' materializations itself: Dagster adds none."""
    return dg.Output(None, output_name=output_name, metadata={SYSTEM_METADATA_KEY_SOURCE_ASSET_OBSERVATION: True})


def unavailable_metadata(unavailable: Mapping[str, str]) -> dict[str, Any]:
    """What every partition built in the run says about the months of the run the source could not supply."""
    return {UNAVAILABLE: dg.MetadataValue.json(dict(unavailable))} if unavailable else {}
