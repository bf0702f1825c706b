"""A representative part of the bad-input corpus through the real pipeline, on a private snapshot of real files.

A broken file fails its own partition (or the reference layer) with the file, row and column named, and leaves
every staged and downstream warehouse table, the published DuckDB file, its Parquet copies and the download cache
exactly as they were (`raw_<dataset>` records which file was fetched last, so its row for the broken file alone
changes). A file the parser reads
correctly (a byte-order mark and Windows line endings) rebuilds its month to the same rows; only build_info changes,
recording the new file's checksum as a replacement.
"""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import polars.selectors as cs
import pytest

from pipeline.incremental import forced_rebuild
from pipeline.runner import PlannedRun, plan_full_build
from pipeline.settings import SNAPSHOT_DIR
from tests.corpus.cases import CASES, Case
from tests.helpers.operations import (
    changed_tables,
    published_state,
    run_quietly,
    small_snapshot_rows,
    tree_listing,
    warehouse_tables,
)
from tests.helpers.performance import definitions_on, edited_lines, private_snapshot

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
READ_CORRECTLY = {
    "ae-bom-crlf": ("ae", "monthly_csv", "2024-06-01"),
}
JOBS = {d: f"{d}_job" for d in ("staff_survey", "ae", "rtt", "sickness", "cancer")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("corpus-pipeline")
    rows = small_snapshot_rows()
    snapshot = private_snapshot(root / "snapshot", rows)
    definitions = definitions_on(snapshot, root / "out")
    outcome = run_quietly(definitions, plan_full_build(definitions))
    assert outcome.ok, outcome.failed
    yield {"root": root, "rows": rows, "out": root / "out"}
    private_snapshot(root / "snapshot", rows)  # the manifest cache must not keep pointing at a broken copy


def _run_with(built: dict, case: Case, key: tuple[str, str, str]) -> tuple:
    broken = case.make(built["root"] / "broken" / case.id)
    rows = [
        {**r, "source": str(broken)} if (r["dataset"], r["product"], r["period"]) == key else r for r in built["rows"]
    ]
    definitions = definitions_on(private_snapshot(built["root"] / "snapshot", rows), built["out"])
    plan = [PlannedRun("reference_job", "reference")]
    if key[0] != "ods":
        plan.append(PlannedRun(JOBS[key[0]], f"{key[0]} {key[2]}", key[2]))
    plan.append(PlannedRun("downstream_job", "downstream"))
    return run_quietly(definitions, plan), broken


def _restore(built: dict) -> None:
    definitions = definitions_on(private_snapshot(built["root"] / "snapshot", built["rows"]), built["out"])
    assert run_quietly(definitions, plan_full_build(definitions)).ok


def _fetched_other_files(warehouse: Path, dataset: str, broken: tuple[str, str]) -> dict[str, pl.DataFrame]:
    """The dataset's raw_<dataset> rows of every file but the broken one (whose row records that it was fetched)."""
    return {
        name: frame.filter(
            pl.struct("product", "period") != pl.struct(product=pl.lit(broken[0]), period=pl.lit(broken[1]))
        )
        for name, frame in warehouse_tables(warehouse).items()
        if name == f"raw_{dataset}"
    }


def _build_info(published: Path) -> pl.DataFrame:
    """build_info without the columns that change on every build."""
    con = duckdb.connect(str(published / "nhs_change_readiness.duckdb"), read_only=True)
    try:
        return con.sql("SELECT * EXCLUDE (built_at) FROM build_info").pl()
    finally:
        con.close()


@pytest.mark.parametrize("case_id", list(FAILING))
def test_a_broken_file_fails_its_partition_and_changes_nothing(built: dict, case_id: str) -> None:
    dataset, product, period, expected = FAILING[case_id]
    warehouse, published = built["out"] / "work" / "warehouse.duckdb", built["out"] / "published"
    tables_before, state_before = warehouse_tables(warehouse, ("raw_",)), published_state(published)
    fetched_before, cache_before = (
        _fetched_other_files(warehouse, dataset, (product, period)),
        tree_listing(built["out"] / "raw"),
    )
    outcome, _ = _run_with(built, BY_ID[case_id], (dataset, product, period))
    assert not outcome.ok
    planned, reason = outcome.failed
    assert planned.partition_key == (None if dataset == "ods" else period)
    assert reason.startswith(("InputDataError: file '", "UnsafeArchiveError: file '")) and expected in reason, reason
    assert changed_tables(tables_before, warehouse_tables(warehouse, ("raw_",))) == []
    assert published_state(published) == state_before
    assert not list(published.glob(".*.tmp-*")) and not list(published.glob("*.tmp-*"))
    assert changed_tables(fetched_before, _fetched_other_files(warehouse, dataset, (product, period))) == []
    assert tree_listing(built["out"] / "raw") == cache_before


@pytest.mark.parametrize("case_id", list(READ_CORRECTLY))
def test_a_file_read_correctly_rebuilds_its_month_to_the_same_rows(built: dict, case_id: str) -> None:
    dataset, product, period = READ_CORRECTLY[case_id]
    warehouse, published = built["out"] / "work" / "warehouse.duckdb", built["out"] / "published"
    table = f"{dataset}_monthly"
    before = warehouse_tables(warehouse)[table]
    digest_before, parquet_before, _ = published_state(published)
    info_before = _build_info(published)
    outcome, _ = _run_with(built, BY_ID[case_id], (dataset, product, period))
    try:
        assert outcome.ok, outcome.failed
        assert warehouse_tables(warehouse)[table].equals(before)
        digest_after, parquet_after, _ = published_state(published)
        changed = {t for t in digest_before if digest_before[t] != digest_after[t]}
        assert changed == {"build_info"}
        assert {t for t in parquet_before if parquet_before[t] != parquet_after[t]} == {"build_info"}
        after = _build_info(published)
        changed_files = after.join(info_before, how="anti", on=list(after.columns), nulls_equal=True)
        assert changed_files.select("dataset", "product", "period").rows() == [(dataset, product, period)]
        (revision,) = changed_files.to_dicts()
        earlier = info_before.filter(dataset=dataset, product=product, period=period).row(0, named=True)
        assert revision["replaced_earlier_file"] and revision["sha256"] != earlier["sha256"]
        assert revision["previous_sha256"] == earlier["sha256"]
        assert revision["previous_official_name"] == earlier["official_name"]
    finally:
        _restore(built)


def _published_table(published: Path, table: str) -> pl.DataFrame:
    con = duckdb.connect(str(published / "nhs_change_readiness.duckdb"), read_only=True)
    try:
        return con.sql(f'SELECT * FROM "{table}" ORDER BY ALL').pl()
    finally:
        con.close()


def test_rerunning_a_month_and_a_survey_year_publishes_identical_bytes(built: dict) -> None:
    published = built["out"] / "published"
    digest_before, parquet_before, _ = published_state(published)
    built_at_before = _published_table(published, "build_info")["built_at"].unique().to_list()
    plan = [
        PlannedRun("reference_job", "reference"),
        PlannedRun("ae_job", "ae 2024-06", "2024-06-01"),
        PlannedRun("staff_survey_job", "staff_survey 2024", "2024"),
        PlannedRun("downstream_job", "downstream"),
    ]
    definitions = definitions_on(private_snapshot(built["root"] / "snapshot", built["rows"]), built["out"])
    with forced_rebuild():  # every asset rebuilds: the same inputs must give the same bytes, not be reused
        outcome = run_quietly(definitions, plan)
    assert outcome.ok, outcome.failed
    assert _published_table(published, "build_info")["built_at"].unique().to_list() != built_at_before
    digest_after, parquet_after, _ = published_state(published)
    assert digest_after == digest_before
    # build_info carries the build time; every other table's Parquet file is the same to the byte
    assert {t for t in parquet_before if parquet_before[t] != parquet_after[t]} == {"build_info"}
    build_info_parquet = pl.read_parquet(published / "parquet" / "build_info.parquet").drop("built_at")
    assert build_info_parquet.equals(_published_table(published, "build_info").drop("built_at"))


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


def test_a_revised_month_changes_only_its_own_rows_and_is_recorded(built: dict) -> None:
    warehouse, published = built["out"] / "work" / "warehouse.duckdb", built["out"] / "published"
    (june,) = [r for r in built["rows"] if (r["dataset"], r["period"]) == ("ae", "2024-06-01")]
    revised_name = "Monthly-AE-June-2024-revised.csv"
    revised = edited_lines(SNAPSHOT_DIR / june["path"], built["root"] / revised_name, _revised_june)
    rows = [
        {**r, "source": str(revised), "path": f"ae-attendances/{revised_name}", "official_name": revised_name}
        if r is june
        else r
        for r in built["rows"]
    ]
    staged_before = warehouse_tables(warehouse)["ae_monthly"]
    published_before = _published_table(published, "performance_monthly")
    info_before = _build_info(published)
    plan = [
        PlannedRun("reference_job", "reference"),
        PlannedRun("ae_job", "ae 2024-06", "2024-06-01"),
        PlannedRun("downstream_job", "downstream"),
    ]
    outcome = run_quietly(definitions_on(private_snapshot(built["root"] / "snapshot", rows), built["out"]), plan)
    try:
        assert outcome.ok, outcome.failed
        june_month = pl.col("period_month") == date(2024, 6, 1)
        staged_after = warehouse_tables(warehouse)["ae_monthly"]
        assert staged_after.filter(~june_month).equals(staged_before.filter(~june_month))
        assert set(
            _changed_rows(staged_after.filter(june_month), staged_before.filter(june_month), "reported_org_code")
        ) == {"RFF"}
        assert set(staged_after.filter(june_month)["source_file"]) == {revised_name}

        published_after = _published_table(published, "performance_monthly")
        assert published_after.filter(~june_month).equals(published_before.filter(~june_month))
        assert set(
            _changed_rows(published_after.filter(june_month), published_before.filter(june_month), "org_code")
        ) == {"RFF"}
        # RFF June 2024 4-hour performance (real file, row 36): attendances 8780 type 1 + 397 booked type 1 = 9177,
        # over 4 hours 2458, so 6719 within 4 hours; the revision adds 100 attendances and 42 over 4 hours
        four_hours = (pl.col("org_code") == "RFF") & june_month & (pl.col("measure") == "ae_4hr_pct_all")
        assert published_before.filter(four_hours).select("numerator", "denominator").row(0) == (6719, 9177)
        assert published_after.filter(four_hours).select("numerator", "denominator").row(0) == (6777, 9277)

        info_after = _build_info(published)
        changed_files = info_after.join(info_before, how="anti", on=list(info_after.columns), nulls_equal=True)
        (revision,) = changed_files.to_dicts()
        assert (revision["dataset"], revision["product"], revision["period"]) == ("ae", "monthly_csv", "2024-06-01")
        assert revision["official_name"] == revised_name and revision["replaced_earlier_file"]
        assert revision["previous_official_name"] == june["official_name"]
        assert revision["previous_sha256"] == june["sha256"] != revision["sha256"]
        assert revision["replaced_at"] is not None
    finally:
        _restore(built)


def _changed_rows(after: pl.DataFrame, before: pl.DataFrame, key: str) -> list[str]:
    """Values of `key` on rows (provenance columns aside) that are new or gone between two readings of a table."""
    after, before = after.drop(cs.starts_with("source_")), before.drop(cs.starts_with("source_"))
    added = after.join(before, how="anti", on=after.columns, nulls_equal=True)
    removed = before.join(after, how="anti", on=before.columns, nulls_equal=True)
    return [*added[key], *removed[key]]
