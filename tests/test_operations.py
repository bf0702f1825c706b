"""Running unattended: the failure sensor's summary and the instance settings."""

from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.ingest.ods import raw_ods
from pipeline.dagster_home import dagster_home
from pipeline.resources import PublishTargetResource, SourceResource
from pipeline.sensors import run_failure_summary
from pipeline.settings import PROJECT_ROOT
from pipeline.warehouse import WarehouseResource


def test_failure_sensor_writes_a_summary_naming_the_failed_step(tmp_path: Path) -> None:
    # a snapshot whose manifest lists an ODS file that is not there: raw_ods fails and says why
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "manifest.csv").write_text(
        "dataset,product,period,path,official_name,official_url,sha256,bytes,licence\n"
        "ods,etr,2026,ods/2026/etr.csv,etr.csv,https://www.odsdatasearchandexport.nhs.uk/,x,1,OGL v3\n"
    )
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [raw_ods],
        instance=instance,
        raise_on_error=False,
        resources={
            "source": SourceResource(snapshot_dir=str(snapshot), raw_dir=str(tmp_path / "raw")),
            "warehouse": WarehouseResource(database=str(tmp_path / "w.duckdb")),
        },
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_summary",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"publish_target": PublishTargetResource(published_dir=str(tmp_path / "published"))},
    ).for_run_failure()
    run_failure_summary(context)
    summary = (tmp_path / "published" / "run_failures" / "latest.md").read_text()
    assert summary.startswith("# Run failed: __ephemeral_asset_job__")
    assert "step `raw_ods`: **SourceUnavailableError**: snapshot manifest lists ods/2026/etr.csv" in summary
    assert "No published file exists yet" in summary


def test_without_dagster_home_the_instance_is_made_beside_the_warehouse_from_the_shipped_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("NHS_READINESS_WAREHOUSE", str(tmp_path / "work" / "warehouse.duckdb"))
    home = dagster_home()
    assert home == tmp_path / "work" / "dagster_home"
    shipped = (PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml").read_text()
    assert (home / "dagster.yaml").read_text() == shipped
    (home / "dagster.yaml").write_text(shipped + "# the user's own edit\n")
    assert dagster_home() == home and (home / "dagster.yaml").read_text().endswith("# the user's own edit\n")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert dagster_home() == tmp_path / "elsewhere" and (tmp_path / "elsewhere" / "dagster.yaml").exists()


def test_instance_template_turns_telemetry_off_and_runs_one_writer_at_a_time(tmp_path: Path) -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml").read_text())
    assert settings["telemetry"] == {"enabled": False}
    assert settings["nux"] == {"enabled": False}  # no sign-up pop-up in the UI
    assert "storage" not in settings  # Dagster's default: SQLite inside the instance folder
    assert settings["concurrency"]["runs"]["max_concurrent_runs"] == 1
    assert settings["concurrency"]["pools"]["default_limit"] == 1
    (tmp_path / "dagster.yaml").write_bytes((PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml").read_bytes())
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:  # the file is valid instance configuration
        assert not instance.telemetry_enabled
    finally:
        instance.dispose()
