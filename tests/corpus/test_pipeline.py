"""A representative part of the bad-input corpus, revisions and re-runs through the real pipeline, on a copy of the
session's small build of real files (each test starts from a copy of that build).

A broken file fails its own partition (or the reference layer) with the file, sheet, row and column named, and
leaves every staged and downstream warehouse table, the published DuckDB file, its Parquet copies and the download
cache exactly as they were (`raw_<dataset>` records which file was fetched last, so its row for the broken file
alone changes). A forced re-run of a month and a survey year publishes the same bytes; a revised A&E file changes
only its own month's rows, and build_info records it as a replacement of the earlier file.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import polars.selectors as cs
import pytest

from pipeline.incremental import forced_rebuild
from pipeline.runner import BuildOutcome, PlannedRun
from pipeline.settings import SNAPSHOT_DIR
from tests.conftest import SnapshotBuild
from tests.corpus.breakers import lines_edited
from tests.corpus.cases import CASES, Case
from tests.helpers.operations import (
    changed_tables,
    published_state,
    run_quietly,
    small_snapshot_rows,
    tree_listing,
    warehouse_tables,
)
from tests.helpers.performance import definitions_on, private_snapshot

BY_ID = {c.id: c for c in CASES}
# case → (dataset, product, period) of the file it replaces, and the error the run must stop with
FAILING = {
    "ods-duplicated-row": ("ods", "etr", "2026", "file 'etr.csv', row 275, column 'Organisation Code (column 1)'"),
    "workbook-percent-fractions": (
        "staff_survey",
        "organisational_workbook",
        "2024",
        "sheet 'HEALTH WELLBEING SAFETY Q12', row 84, column 'M': the options of q12b sum to 1, not 100",
    ),
    "rtt-zip-bomb": ("rtt", "full_extract_zip", "2026-04-01", "(more than 1000x): a zip bomb, refused"),
    "ae-truncated-mid-row": ("ae", "monthly_csv", "2024-06-01", "row 150: the last line has"),
    "sickness-zero-byte": ("sickness", "monthly_csv", "2024-04-01", "the file is empty (0 bytes)"),
    "cancer-wrong-month": ("cancer", "provider_workbook", "2025-04-01", "row 2, column 'A': title block gives March"),
}


@dataclass(frozen=True)
class Baseline:
    root: Path
    rows: list[dict[str, str]]
    out: Path
    saved: Path  # a copy of `out` right after the good build
    tables: dict[str, pl.DataFrame]  # every warehouse table
    published: tuple[dict[str, str], dict[str, str], bytes]  # published_state
    build_info: pl.DataFrame

    @property
    def warehouse(self) -> Path:
        return self.out / "work" / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.out / "published"


@pytest.fixture(scope="module")
def baseline(small_build: SnapshotBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    """The session's small build of these files, copied with a private snapshot of the same files to break."""
    root = tmp_path_factory.mktemp("corpus-pipeline")
    rows = small_snapshot_rows()
    private_snapshot(root / "snapshot", rows)
    small_build.copy_to(root / "out")
    shutil.copytree(root / "out", root / "saved")
    published = root / "out" / "published"
    tables = warehouse_tables(root / "out" / "work" / "warehouse.duckdb")
    yield Baseline(root, rows, root / "out", root / "saved", tables, published_state(published), _build_info(published))
    private_snapshot(root / "snapshot", rows)  # the manifest cache must not keep pointing at a broken copy


@pytest.fixture
def built(baseline: Baseline) -> Baseline:
    """The good build, as it was: outputs copied back from the saved copy, the snapshot rewritten."""
    shutil.rmtree(baseline.out)
    shutil.copytree(baseline.saved, baseline.out)
    private_snapshot(baseline.root / "snapshot", baseline.rows)
    return baseline


def _run(built: Baseline, rows: list[dict[str, str]], plan: list[PlannedRun]) -> BuildOutcome:
    return run_quietly(definitions_on(private_snapshot(built.root / "snapshot", rows), built.out), plan)


def _run_with(built: Baseline, case: Case, key: tuple[str, str, str]) -> BuildOutcome:
    broken = case.make(built.root / "broken" / case.id)
    rows = [{**r, "source": str(broken)} if (r["dataset"], r["product"], r["period"]) == key else r for r in built.rows]
    plan = [PlannedRun("reference_job", "reference")]
    if key[0] != "ods":
        plan.append(PlannedRun(f"{key[0]}_job", f"{key[0]} {key[2]}", key[2]))
    plan.append(PlannedRun("downstream_job", "downstream"))
    return _run(built, rows, plan)


def _other_files(tables: dict[str, pl.DataFrame], dataset: str, broken: tuple[str, str]) -> pl.DataFrame:
    """The rows of raw_<dataset> for every file but the broken one (whose row records that it was fetched), without
    the file's path: the shared build read the same files from its own snapshot folder, so a file of the broken
    partition fetched again has a new path, but the same checksum, size and fetch time."""
    other = pl.struct("product", "period") != pl.struct(product=pl.lit(broken[0]), period=pl.lit(broken[1]))
    return tables[f"raw_{dataset}"].filter(other).drop("path")


def _without_raw(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {name: frame for name, frame in tables.items() if not name.startswith("raw_")}


def _build_info(published: Path) -> pl.DataFrame:
    """build_info without the build time."""
    return _published_table(published, "build_info").drop("built_at")


def _published_table(published: Path, table: str) -> pl.DataFrame:
    con = duckdb.connect(str(published / "nhs_change_readiness.duckdb"), read_only=True)
    try:
        return con.sql(f'SELECT * FROM "{table}" ORDER BY ALL').pl()
    finally:
        con.close()


@pytest.mark.parametrize("case_id", list(FAILING))
def test_a_broken_file_fails_its_partition_and_changes_nothing(built: Baseline, case_id: str) -> None:
    dataset, product, period, expected = FAILING[case_id]
    cache_before = tree_listing(built.out / "raw")
    outcome = _run_with(built, BY_ID[case_id], (dataset, product, period))
    assert not outcome.ok
    planned, reason = outcome.failed
    assert planned.partition_key == (None if dataset == "ods" else period)
    assert reason.startswith(("InputDataError: file '", "UnsafeArchiveError: file '")) and expected in reason, reason
    tables = warehouse_tables(built.warehouse)
    assert changed_tables(_without_raw(built.tables), _without_raw(tables)) == []
    assert _other_files(tables, dataset, (product, period)).equals(
        _other_files(built.tables, dataset, (product, period))
    )
    assert published_state(built.published_dir) == built.published
    assert not list(built.published_dir.glob(".*.tmp-*")) and not list(built.published_dir.glob("*.tmp-*"))
    assert tree_listing(built.out / "raw") == cache_before


def test_rerunning_a_month_and_a_survey_year_publishes_identical_bytes(built: Baseline) -> None:
    plan = [
        PlannedRun("ae_job", "ae 2024-06", "2024-06-01"),
        PlannedRun("staff_survey_job", "staff_survey 2024", "2024"),
        PlannedRun("downstream_job", "downstream"),
    ]
    with forced_rebuild():  # every asset rebuilds: the same inputs must give the same bytes, not be reused
        outcome = _run(built, built.rows, plan)
    assert outcome.ok, outcome.failed
    built_at = _published_table(built.published_dir, "build_info")["built_at"].unique()
    assert built_at.len() == 1 and built_at[0] > datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
    digest_before, parquet_before, _ = built.published
    digest_after, parquet_after, _ = published_state(built.published_dir)
    assert digest_after == digest_before
    # build_info carries the build time; every other table's Parquet file is the same to the byte
    assert {t for t in parquet_before if parquet_before[t] != parquet_after[t]} == {"build_info"}
    build_info_parquet = pl.read_parquet(built.published_dir / "parquet" / "build_info.parquet").drop("built_at")
    assert build_info_parquet.sort(pl.all()).equals(_build_info(built.published_dir).sort(pl.all()))


def _revised_june(lines: list[str]) -> list[str]:
    """SYNTHETIC revision of the real June 2024 A&E file: Barnsley (RFF, row 36) gets 100 more type 1
    attendances (8780 -> 8880) and 42 more over 4 hours (2458 -> 2500), and the TOTAL row (199) moves by the same,
    as a publisher's corrected release would."""
    deltas = {4: 100, 10: 42}  # columns 'A&E attendances Type 1' and 'Attendances over 4hrs Type 1'

    def bumped(line: str) -> str:
        fields = line.split(",")
        for column, delta in deltas.items():
            fields[column] = str(int(fields[column]) + delta)
        return ",".join(fields)

    return [bumped(line) if ",RFF," in line or line.startswith("TOTAL,") else line for line in lines]


def test_a_revised_month_changes_only_its_own_rows_and_is_recorded(built: Baseline) -> None:
    (june,) = [r for r in built.rows if (r["dataset"], r["period"]) == ("ae", "2024-06-01")]
    revised_name = "Monthly-AE-June-2024-revised.csv"
    revised = lines_edited(SNAPSHOT_DIR / june["path"], built.root / revised_name, _revised_june)
    rows = [
        {**r, "source": str(revised), "path": f"ae-attendances/{revised_name}", "official_name": revised_name}
        if r is june
        else r
        for r in built.rows
    ]
    published_before = _published_table(built.published_dir, "performance_monthly")
    plan = [PlannedRun("ae_job", "ae 2024-06", "2024-06-01"), PlannedRun("downstream_job", "downstream")]
    outcome = _run(built, rows, plan)
    assert outcome.ok, outcome.failed

    june_month = pl.col("period_month") == date(2024, 6, 1)
    staged_before, staged_after = built.tables["ae_monthly"], warehouse_tables(built.warehouse)["ae_monthly"]
    assert staged_after.filter(~june_month).equals(staged_before.filter(~june_month))
    changed = _changed_rows(staged_after.filter(june_month), staged_before.filter(june_month), "reported_org_code")
    assert set(changed) == {"RFF"}
    assert set(staged_after.filter(june_month)["source_file"]) == {revised_name}

    published_after = _published_table(built.published_dir, "performance_monthly")
    assert published_after.filter(~june_month).equals(published_before.filter(~june_month))
    assert set(_changed_rows(published_after.filter(june_month), published_before.filter(june_month), "org_code")) == {
        "RFF"
    }
    # RFF June 2024 4-hour performance (real file, row 36): attendances 8780 type 1 + 397 booked type 1 = 9177,
    # over 4 hours 2458, so 6719 within 4 hours; the revision adds 100 attendances and 42 over 4 hours
    four_hours = (pl.col("org_code") == "RFF") & june_month & (pl.col("measure") == "ae_4hr_pct_all")
    assert published_before.filter(four_hours).select("numerator", "denominator").row(0) == (6719, 9177)
    assert published_after.filter(four_hours).select("numerator", "denominator").row(0) == (6777, 9277)

    info_after = _build_info(built.published_dir)
    changed_files = info_after.join(built.build_info, how="anti", on=list(info_after.columns), nulls_equal=True)
    (revision,) = changed_files.to_dicts()
    assert (revision["dataset"], revision["product"], revision["period"]) == ("ae", "monthly_csv", "2024-06-01")
    assert revision["official_name"] == revised_name and revision["replaced_earlier_file"]
    assert revision["previous_official_name"] == june["official_name"]
    assert revision["previous_sha256"] == june["sha256"] != revision["sha256"]
    assert revision["replaced_at"] is not None


def _changed_rows(after: pl.DataFrame, before: pl.DataFrame, key: str) -> list[str]:
    """Values of `key` on rows (provenance columns aside) that are new or gone between two readings of a table."""
    after, before = after.drop(cs.starts_with("source_")), before.drop(cs.starts_with("source_"))
    added = after.join(before, how="anti", on=after.columns, nulls_equal=True)
    removed = before.join(after, how="anti", on=before.columns, nulls_equal=True)
    return [*added[key], *removed[key]]
