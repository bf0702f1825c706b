"""The Dagster code location loads, and follows the project's conventions."""

import dagster as dg

from assets.publish.published_database import BUILT_HERE, VIEWS
from pipeline import dictionary
from pipeline.definitions import build_definitions, defs
from pipeline.jobs import DOWNSTREAM_JOB, REFERENCE_JOB

STAGES = {"ingest", "staged", "indicators", "factors", "index", "publish"}


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)


def test_every_asset_is_in_a_stage_group_and_described() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in STAGES, key
        assert node.description, f"{key.to_user_string()} has no description"


def test_every_published_table_is_written_by_an_asset_of_the_same_name() -> None:
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    built_at_publication = set(BUILT_HERE + VIEWS)
    for doc in dictionary.published_tables():
        assert doc.name in keys | built_at_publication, f"no asset writes published table {doc.name}"


def test_publication_runs_after_everything_else() -> None:
    graph = defs.resolve_asset_graph()
    downstream = defs.resolve_job_def(DOWNSTREAM_JOB).asset_layer.selected_asset_keys
    reference = defs.resolve_job_def(REFERENCE_JOB).asset_layer.selected_asset_keys
    assert dg.AssetKey("published_database") in downstream
    assert dg.AssetKey("published_database") not in reference
    assert graph.get(dg.AssetKey("published_database")).parent_keys >= {dg.AssetKey("ods_trusts")}


def test_storage_locations_come_from_resources(tmp_path) -> None:
    moved = build_definitions(
        raw_dir=str(tmp_path / "r"), warehouse_path=str(tmp_path / "w.duckdb"), published_dir=str(tmp_path / "p")
    )
    assert moved.resources["warehouse"].database == str(tmp_path / "w.duckdb")
    assert moved.resources["publish_target"].database_path == tmp_path / "p" / "nhs_change_readiness.duckdb"
    assert moved.resources["source"].raw_dir == str(tmp_path / "r")
