"""Dagster decides what is stale: in a copy of the project on a small snapshot of real files, a rerun with nothing
changed materializes nothing, and a changed report template rebuilds the report and nothing else. That `--force`
rebuilds everything is asserted by tests/test_crash_safety.py, whose last run after a killed build is forced."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import PROJECT_ROOT, SNAPSHOT_DIR
from tests.conftest import SnapshotBuild
from tests.helpers.dagster_events import materializations
from tests.helpers.operations import small_snapshot_rows
from tests.helpers.performance import private_snapshot
from tests.helpers.processes import stop_group

COPIED = ("assets", "pipeline", "data/reference", "data/framework", "data/dictionary", "expectations")


def project_copy(target: Path) -> Path:
    for part in COPIED:
        shutil.copytree(PROJECT_ROOT / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(PROJECT_ROOT / "workspace.yaml", target / "workspace.yaml")
    return target


def run_cli(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def built_copy(
    small_build: SnapshotBuild, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str], Path]:
    """A copy of the project's code, and a copy of the session's small build (with its Dagster instance where the
    command line looks for it without DAGSTER_HOME, beside the warehouse) reading a snapshot of the same files in
    another folder. Code versions and source data versions depend on content, not on where it lives, so in the
    copy nothing is stale."""
    root = tmp_path_factory.mktemp("staleness")
    project = project_copy(root / "project")
    snapshot = private_snapshot(root / "snapshot", small_snapshot_rows())
    small_build.copy_to(root / "out", instance=True)
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "NHS_READINESS_SOURCE"}}
    env |= {
        "PYTHONPATH": str(project),
        "NHS_READINESS_SNAPSHOT_DIR": str(snapshot),
        "NHS_READINESS_RAW_DIR": str(root / "out" / "raw"),
        "NHS_READINESS_WAREHOUSE": str(root / "out" / "work" / "warehouse.duckdb"),
        "NHS_READINESS_PUBLISHED_DIR": str(root / "out" / "published"),
    }
    return project, env, root / "out" / "work" / "dagster_home"


def test_a_rerun_with_nothing_changed_materializes_nothing(built_copy: tuple[Path, dict[str, str], Path]) -> None:
    project, env, home = built_copy
    before = materializations(home)
    assert before["readiness_index"] == 1 and before["published_report"] == 1
    assert before["raw_ae"] == 2  # the two A&E months of the small snapshot, one run each
    rerun = run_cli(project, env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Nothing changed since the last build" in rerun.stdout
    assert materializations(home) == before


def test_a_changed_template_rebuilds_only_the_report(built_copy: tuple[Path, dict[str, str], Path]) -> None:
    project, env, home = built_copy
    before = materializations(home)
    template = project / "assets" / "publish" / "report" / "templates" / "base.html"
    template.write_text(template.read_text() + "\n<!-- edited by the staleness test -->\n")
    rerun = run_cli(project, env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert materializations(home) - before == Counter({"published_report": 1})
    report = Path(env["NHS_READINESS_PUBLISHED_DIR"]) / "report" / "index.html"
    assert "<!-- edited by the staleness test -->" in report.read_text()


def test_a_changed_month_rebuilds_that_month_and_what_reads_all_months(
    built_copy: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    """One A&E month's file changes (a trailing blank line: new bytes, same rows): that month's raw and staged
    partitions rebuild, and the unpartitioned tables that read every month after them (the rule Dagster leaves to
    us, docs/decisions.md 26); the other month and the other datasets do not."""
    project, env, home = built_copy
    before = materializations(home, by_partition=True)
    rows = small_snapshot_rows()
    july = next(r for r in rows if r["dataset"] == "ae" and r["period"] == "2024-07-01")
    edited = tmp_path / Path(july["path"]).name
    edited.write_bytes((SNAPSHOT_DIR / july["path"]).read_bytes() + b"\r\n")
    july["source"] = str(edited)
    private_snapshot(Path(env["NHS_READINESS_SNAPSHOT_DIR"]), rows)
    rerun = run_cli(project, env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    rebuilt = materializations(home, by_partition=True) - before
    assert rebuilt["raw_ae [2024-07-01]"] == rebuilt["ae_monthly [2024-07-01]"] == 1
    assert rebuilt["performance_monthly"] == rebuilt["published_database"] == 1
    untouched = ["raw_ae [2024-06-01]", "ae_monthly [2024-06-01]", "ods_trusts", "raw_staff_survey [2024]"]
    assert [name for name in untouched if rebuilt[name]] == []
    assert not [name for name in rebuilt if name.startswith(("rtt_monthly", "sickness_monthly", "staff_survey_items"))]


READINESS_INDEX_QUERY = """
{ assetNodes(assetKeys: [{path: ["readiness_index"]}]) {
    assetMaterializations(limit: 1) { runId metadataEntries { label
      ... on IntMetadataEntry { intValue }
      ... on TableSchemaMetadataEntry { schema { columns { name type } } } } } } }
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def test_the_ui_shows_what_the_command_line_built(
    built_copy: tuple[Path, dict[str, str], Path], tmp_path: Path
) -> None:
    """`nhs-readiness ui` (dagster dev) with the same environment as `nhs-readiness run`, and no DAGSTER_HOME:
    readiness_index is materialized, with its row count and its column types as DuckDB holds them."""
    project, env, home = built_copy
    port = _free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "ui", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the UI did not answer within 120 s"
            try:
                nodes = _graphql(base, READINESS_INDEX_QUERY)["data"]["assetNodes"]
                break
            except (OSError, KeyError, TypeError):
                time.sleep(0.5)
        materialization = nodes[0]["assetMaterializations"][0]
        entries = {e["label"]: e for e in materialization["metadataEntries"]}
        con = duckdb.connect(env["NHS_READINESS_WAREHOUSE"], read_only=True)
        try:
            rows = con.sql("SELECT count(*) FROM readiness_index").fetchone()[0]
            types = dict(
                con.sql(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'readiness_index'"
                ).fetchall()
            )
        finally:
            con.close()
        assert entries["dagster/row_count"]["intValue"] == rows > 0
        shown = {c["name"]: c["type"] for c in entries["dagster/column_schema"]["schema"]["columns"]}
        assert shown == types
        assert shown["org_code"] == "VARCHAR" and shown["index_score"] == "DOUBLE"
        assert f"Dagster instance {home}" in log.read_text(errors="replace")
    finally:
        assert stop_group(process, signal.SIGINT, 150) == [], "dagster dev left processes behind after Ctrl-C"
