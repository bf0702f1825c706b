"""The staged survey assets in Dagster: a bad file writes nothing and keeps earlier years intact."""

import csv
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from assets.ingest.staff_survey import raw_staff_survey
from assets.staged.staff_survey.assets import extract_agrees_with_workbook, scoring_validity, staff_survey_tables
from pipeline.partitions import SURVEY_YEARS
from pipeline.resources import SourceResource
from pipeline.warehouse import WarehouseResource
from tests.conftest import NSS24_WORKBOOK

EXTRACT = "data_trusts_well-being - organisational results.csv"


def _snapshot(real_data: Path, root: Path, workbook_bytes: bytes) -> Path:
    (root / "survey").mkdir(parents=True)
    shutil.copy(real_data / "nhs-staff-survey" / EXTRACT, root / "survey" / EXTRACT)
    (root / "survey" / NSS24_WORKBOOK).write_bytes(workbook_bytes)
    rows = [("trust_extract", year, EXTRACT) for year in ("2023", "2024")]
    rows.append(("organisational_workbook", "2024", NSS24_WORKBOOK))
    with (root / "manifest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "product", "period", "path", "official_name", "official_url", "sha256", "bytes"])
        for product, period, name in rows:
            writer.writerow(["staff_survey", product, period, f"survey/{name}", name, "test", "x", 1])
    return root


def _materialise(snapshot: Path, warehouse: Path, partition: str, checks=()) -> dg.ExecuteInProcessResult:
    # survey years are dynamic partitions: the instance holds the years the source lists
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SURVEY_YEARS.name, ["2023", "2024"])
    return dg.materialize(
        [raw_staff_survey, staff_survey_tables, *checks],
        partition_key=partition,
        instance=instance,
        resources={
            "source": SourceResource(snapshot_dir=str(snapshot)),
            "warehouse": WarehouseResource(database=str(warehouse)),
        },
        raise_on_error=False,
    )


def test_a_truncated_workbook_writes_nothing(real_data: Path, tmp_path: Path) -> None:
    good = (real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_WORKBOOK).read_bytes()
    snapshot = _snapshot(real_data, tmp_path / "snapshot", good[: len(good) // 3])
    warehouse = tmp_path / "w.duckdb"
    assert _materialise(snapshot, warehouse, "2023").success
    failed = _materialise(snapshot, warehouse, "2024")
    assert not failed.success
    messages = [e.event_specific_data.error.cause.message for e in failed.get_step_failure_events()]
    assert any("not a readable Excel workbook" in m for m in messages), messages
    con = duckdb.connect(str(warehouse), read_only=True)
    years = con.sql("SELECT DISTINCT survey_year FROM staff_survey_items").fetchall()
    con.close()
    assert years == [(2023,)]


def test_2024_checks_pass_on_the_real_files(real_data: Path, tmp_path: Path) -> None:
    good = (real_data / "nhs-staff-survey-nss24-workbooks" / NSS24_WORKBOOK).read_bytes()
    snapshot = _snapshot(real_data, tmp_path / "snapshot", good)
    result = _materialise(
        snapshot, tmp_path / "w.duckdb", "2024", checks=[scoring_validity, extract_agrees_with_workbook]
    )
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert evaluations["scoring_validity"].passed
    assert "E_1: 0.003" in evaluations["scoring_validity"].description
    agreement = evaluations["extract_agrees_with_workbook"]
    assert agreement.passed and agreement.metadata["values_compared"].value > 263 * 18
