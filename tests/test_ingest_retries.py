"""Ingest steps are retried by Dagster for transient download failures only, never for refused content."""

import time
from pathlib import Path

import dagster as dg
import pytest

from assets.ingest.ods import raw_ods
from assets.ingest.raw_files import retry_if_transient
from pipeline.fetch import http
from pipeline.fetch.http import DownloadError
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile
from pipeline.warehouse import WarehouseResource

ODS_URL = "https://www.odsdatasearchandexport.nhs.uk/api/getReport?report=etr"


class FailingSource(SourceResource):
    """The bundled snapshot behind a publisher that fails the first `failures` fetches with `problem`
    (a count kept in a file, since Dagster builds the resource afresh for every retry)."""

    calls_file: str
    failures: int
    transient: bool
    problem: str

    def fetch(self, dataset: str, product: str, period: str) -> SourceFile:
        calls = Path(self.calls_file)
        count = int(calls.read_text()) if calls.exists() else 0
        calls.write_text(str(count + 1))
        if count < self.failures:
            raise DownloadError(ODS_URL, self.problem, transient=self.transient)
        return super().fetch(dataset, product, period)


def _materialize_raw_ods(tmp_path: Path, failures: int, transient: bool, problem: str) -> dg.ExecuteInProcessResult:
    source = FailingSource(
        raw_dir=str(tmp_path / "raw"),
        calls_file=str(tmp_path / "calls"),
        failures=failures,
        transient=transient,
        problem=problem,
        step_retries=2,
        step_retry_seconds=0.0,
    )
    return dg.materialize(
        [raw_ods],
        resources={"source": source, "warehouse": WarehouseResource(database=str(tmp_path / "w.duckdb"))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _retries(result: dg.ExecuteInProcessResult) -> int:
    return sum(1 for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY")


def test_a_transient_failure_is_retried_and_the_step_then_succeeds(tmp_path: Path, real_data: Path) -> None:
    http._UNREACHABLE["www.odsdatasearchandexport.nhs.uk"] = (time.monotonic(), "timed out")
    result = _materialize_raw_ods(tmp_path, failures=1, transient=True, problem="HTTP 503 Service Unavailable")
    assert result.success
    assert _retries(result) == 1
    assert (tmp_path / "calls").read_text() == "2"
    assert http._UNREACHABLE == {}, "a retried step must try the host again, not give up on it from memory"
    files = result.asset_materializations_for_node("raw_ods")[0].metadata["files"].value
    assert "`etr.csv`" in files


def test_retries_stop_after_the_configured_number(tmp_path: Path, real_data: Path) -> None:
    result = _materialize_raw_ods(tmp_path, failures=10, transient=True, problem="timed out after 60 s")
    assert not result.success
    assert _retries(result) == 2
    assert (tmp_path / "calls").read_text() == "3"
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    cause = failure.step_failure_data.error.cause
    assert cause.cls_name == "DownloadError"
    assert cause.message.strip().endswith(f"download of {ODS_URL} failed: timed out after 60 s")


@pytest.mark.parametrize(
    "problem", ["the host www.example.com is not on the allow-list", "an HTML page, not the expected CSV file"]
)
def test_a_refused_file_is_not_retried(tmp_path: Path, real_data: Path, problem: str) -> None:
    result = _materialize_raw_ods(tmp_path, failures=1, transient=False, problem=problem)
    assert not result.success
    assert _retries(result) == 0
    assert (tmp_path / "calls").read_text() == "1"


def test_the_wait_doubles_with_each_retry() -> None:
    source = SourceResource(step_retries=3, step_retry_seconds=300.0)
    transient = DownloadError(ODS_URL, "HTTP 502 Bad Gateway", transient=True)
    waits = [retry_if_transient(transient, n, source) for n in range(4)]
    assert [w.seconds_to_wait if w else None for w in waits] == [300.0, 600.0, 1200.0, None]
    assert retry_if_transient(DownloadError(ODS_URL, "over the size cap"), 0, source) is None
