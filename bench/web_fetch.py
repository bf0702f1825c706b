"""Measure the web source mode against a loopback publisher serving the real files.

    uv run python bench/web_fetch.py

1. Downloads (in this process): the real RTT full-extract zip (3.5 MB; sha256, zip guards), the real NSS24
   organisational workbook inside a detailed-spreadsheets zip built here (download, guards, unpacking) and
   12 real sickness CSVs; then the same again when the server confirms them unchanged (ETag, HTTP 304),
   and offline (server gone: verified cached copies reused).
2. `nhs-readiness run --source web` in a subprocess: first run (cold cache) and rerun, against
   `nhs-readiness run` on the snapshot, with wall time and peak RSS from /usr/bin/time.

Generated data stays in a temporary folder; nothing is committed.
"""

import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.fetch import show_notes_on_console, web_fetch
from pipeline.fetch.discovery import clear_memo
from pipeline.resources import SourceResource
from pipeline.settings import SNAPSHOT_DIR
from tests.helpers.publisher_server import Reply, running_publisher

RTT_URL = "https://www.england.nhs.uk/statistics/wp-content/uploads/sites/2/2026/06/Full-CSV-data-file-Apr26-ZIP.zip"
RTT_PAGE = "https://www.england.nhs.uk/statistics/statistical-work-areas/rtt-waiting-times/"
SURVEY_JSON = "https://www.nhsstaffsurveys.com/page-data/sq/d/4265973848.json"
SURVEY_ZIP = "https://www.nhsstaffsurveys.com/static/00000000000000000000000000000024/NSS24-Detailed-spreadsheets.zip"
ETR = "https://www.odsdatasearchandexport.nhs.uk/api/getReport?report=etr"


def _known_sickness() -> list[tuple[str, str]]:
    rows = (Path(__file__).resolve().parents[1] / "data" / "reference" / "source_known_urls.csv").read_text()
    return [(r.split(",")[2], r.split(",")[3]) for r in rows.splitlines() if r.startswith("sickness,")]


def _timed(label: str, action) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<58} {seconds:7.3f} s")
    return seconds


def downloads(root: Path) -> None:
    survey = SNAPSHOT_DIR / "nhs-staff-survey-nss24-workbooks"
    survey_zip = root / "NSS24-Detailed-spreadsheets.zip"
    with zipfile.ZipFile(survey_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind in ("national", "organisational"):
            name = f"NSS24 detailed spreadsheets {kind} results.xlsx"
            archive.write(survey / name, name)
    rtt = (SNAPSHOT_DIR / "rtt" / "20260430-RTT-April-2026-full-extract.csv.zip").read_bytes()
    with running_publisher() as server:
        server.publish(RTT_PAGE, Reply(f'<a href="{RTT_URL}">synthetic link</a>'.encode(), content_type="text/html"))
        server.publish(RTT_URL, Reply(rtt, content_type="application/zip", etag='"rtt"'))
        catalogue = json.dumps({"publicURL": SURVEY_ZIP}).encode()  # synthetic stand-in for the catalogue JSON
        server.publish(SURVEY_JSON, Reply(catalogue, content_type="application/json"))
        server.publish(SURVEY_ZIP, Reply(survey_zip.read_bytes(), content_type="application/zip", etag='"nss24"'))
        months = _known_sickness()
        for month, (period, url) in enumerate(months, start=4):
            csv = SNAPSHOT_DIR / "sickness-absence" / f"nhs_sickness_absence_{period[:7]}.csv"
            server.publish(url, Reply(csv.read_bytes(), content_type="text/csv", etag=f'"{month}"'))
        source = SourceResource(
            mode="web", raw_dir=str(root / "raw"), url_rewrites=server.rewrites(), show_progress=False
        )
        mb = (len(rtt) + survey_zip.stat().st_size) / 1e6
        print(f"downloads from the loopback server ({mb:.1f} MB of zips + {len(months)} CSVs)")
        for phase in ("cold cache", "unchanged (HTTP 304)"):
            clear_memo()
            _timed(f"RTT full-extract zip, {phase}", lambda: web_fetch(source, "rtt", "full_extract_zip", "2026-04-01"))
            _timed(
                f"NSS24 zip -> organisational workbook, {phase}",
                lambda: web_fetch(source, "staff_survey", "organisational_workbook", "2024"),
            )
            _timed(
                f"12 sickness CSVs, {phase}",
                lambda: [web_fetch(source, "sickness", "monthly_csv", p) for p, _ in months],
            )
    clear_memo()
    offline = source.model_copy(update={"retries": 0})
    logging.getLogger("pipeline.fetch").setLevel(logging.ERROR)  # one cache note per file otherwise
    _timed(
        "offline: all 14 files from the verified cache",
        lambda: [
            web_fetch(offline, "rtt", "full_extract_zip", "2026-04-01"),
            web_fetch(offline, "staff_survey", "organisational_workbook", "2024"),
            *[web_fetch(offline, "sickness", "monthly_csv", p) for p, _ in months],
        ],
    )
    print(f"  peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _run(label: str, env: dict[str, str], *args: str) -> None:
    command = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "pipeline.cli", "run", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall, peak_kb = result.stderr.strip().splitlines()[-1].split()
    print(f"  {label:<58} {float(wall):7.1f} s  peak {int(peak_kb) / 1024:5.0f} MB  exit {result.returncode}")


def cli_runs(root: Path) -> None:
    print("nhs-readiness run (subprocess, warm Python environment)")
    with running_publisher() as server:
        etr = (SNAPSHOT_DIR / "ods" / "2026" / "etr.csv").read_bytes()
        server.publish(ETR, Reply(etr, content_type="text/csv"))
        for mode in ("snapshot", "web"):
            env = os.environ | {
                "NHS_READINESS_RAW_DIR": str(root / mode / "raw"),
                "NHS_READINESS_WAREHOUSE": str(root / mode / "warehouse.duckdb"),
                "NHS_READINESS_PUBLISHED_DIR": str(root / mode / "published"),
                "NHS_READINESS_SOURCE_OPTIONS": json.dumps({"url_rewrites": server.rewrites()}),
            }
            env.pop("DAGSTER_HOME", None)
            _run(f"--source {mode}, first run", env, "--source", mode)
            _run(f"--source {mode}, rerun with nothing changed", env, "--source", mode)


if __name__ == "__main__":
    show_notes_on_console()
    with tempfile.TemporaryDirectory() as folder:
        downloads(Path(folder))
        cli_runs(Path(folder))
