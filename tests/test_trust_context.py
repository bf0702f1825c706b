"""The trust context extract: real values traced to their row, the deny-list, and the web-mode fallback."""

import csv
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.ingest.trust_context import WEB_FALLBACK_ORIGIN, raw_trust_context
from assets.staged.trust_context.assets import build_trust_context, trust_context
from assets.staged.trust_context.parse import denied_columns, parse_trust_context
from pipeline.errors import InputDataError
from pipeline.reference import read_reference
from pipeline.resources import SourceResource
from pipeline.settings import SNAPSHOT_DIR
from pipeline.warehouse import WarehouseResource

EXTRACT = SNAPSHOT_DIR / "trust-context-extract" / "trust_profiles.csv"


@pytest.fixture(scope="module")
def context() -> pl.DataFrame:
    return build_trust_context(str(EXTRACT), "trust_profiles.csv")


def _value(frame: pl.DataFrame, org: str, measure: str) -> dict[str, object]:
    (row,) = frame.filter((pl.col("org_code") == org) & (pl.col("measure") == measure)).iter_rows(named=True)
    return row


def _line(number: int) -> list[str]:
    with EXTRACT.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[number - 1]


@pytest.mark.parametrize(
    ("org", "measure", "column", "expected", "line", "dataset", "publisher"),
    [
        # read by hand from trust_profiles.csv line 57 (R0A, Manchester University NHS FT): dma_well_led 4.3
        ("R0A", "dma_well_led", "dma_well_led", 4.3, 57, "dma", "NHS England"),
        # line 163 (RTH, Oxford University Hospitals): domain_score_access 2.28
        ("RTH", "nof_domain_score_access", "domain_score_access", 2.28, 163, "nof_trust_data", "NHS England"),
        # line 157 (RRK, University Hospitals Birmingham): 2384 of 2474 G&A beds occupied = 0.96362…
        ("RRK", "bed_occupancy", "beds_occupancy_rate_latest", 2384 / 2474, 157, "kh03_beds", "NHS England"),
    ],
)
def test_real_values_trace_to_their_source_row(
    context, org, measure, column, expected, line, dataset, publisher
) -> None:
    row = _value(context, org, measure)
    assert row["value"] == pytest.approx(expected, abs=1e-12)
    assert (row["source_row"], row["source_column"], row["dataset"], row["publisher"]) == (
        line,
        column,
        dataset,
        publisher,
    )
    assert row["via"].startswith("trust_profiles.csv") and row["source_file"] == "trust_profiles.csv"
    assert _line(line)[0] == org  # the row number points at the trust's own line of the file


def test_each_dataset_carries_its_own_period_and_official_file(context) -> None:
    periods = dict(context.select("dataset", "period").unique().iter_rows())
    assert periods["nof_trust_data"] == "2025/26 Q3" and periods["dma"] == "2025" and periods["eric"] == "2024-25"
    official = dict(context.select("dataset", "official_file").unique().iter_rows())
    assert official["nof_trust_data"] == "nhs-oversight-framework-*-trust-data-q3-25-26-v2.csv"
    # coverage as PROVENANCE.md counts it: NOF segment 150, DMA 127 acute, bed occupancy 121, ERIC backlog 154
    trusts = dict(context.group_by("measure").agg(pl.col("org_code").n_unique()).iter_rows())
    assert (trusts["nof_segment"], trusts["dma_overall"], trusts["bed_occupancy"]) == (150, 127, 121)
    assert trusts["estates_backlog_total"] == 154


def test_derived_ratios_are_computed_from_the_two_named_columns(context) -> None:
    # R0A line 57: 6231 delayed bed days ÷ 2094 beds available; ERIC backlog £277.768m ÷ 2094 beds
    delayed = _value(context, "R0A", "delayed_bed_days_per_bed")
    assert delayed["value"] == pytest.approx(6231 / 2094)
    assert delayed["source_column"] == "discharge_total_delayed_bed_days_latest ÷ beds_ganda_available_latest"
    assert _value(context, "R0A", "estates_backlog_per_bed")["value"] == pytest.approx(277.768 * 1000 / 2094)


def test_no_defective_column_is_ever_read(context) -> None:
    denied = read_reference("trust_context_denied")
    header = _line(1)
    refused = denied_columns(header, denied)
    # the deny-list catches every defective family PROVENANCE.md names, and they exist in the file
    for family in ("rating_overall", "rating_well-led", "workforce_total_fte_latest", "vac_region", "fin_ytd_var_m"):
        assert family in refused
    assert "sickness_rate_overall_latest" in refused and "workforce_fte_per_bed_latest" in refused
    read_columns = {c for text in context["source_column"].to_list() for c in text.split(" ÷ ")}
    assert read_columns and not read_columns & set(refused)
    # R0A's defective workforce FTE (55,879, about twice the real figure) is nowhere in its rows
    r0a = context.filter(pl.col("org_code") == "R0A")
    assert float(next(v for c, v in zip(header, _line(57), strict=True) if c == "workforce_total_fte_latest")) > 55000
    assert not r0a.filter(pl.col("value") > 50000).filter(pl.col("unit") != "spells").height


def test_a_catalogue_that_asks_for_a_denied_column_is_refused() -> None:
    measures = read_reference("trust_context_measures")
    for column in (
        "rating_well-led",
        "workforce_total_fte_latest",
        "vac_benchmark_rate_all_pct",
        "fin_var_pct_turnover",
    ):
        sneaked = pl.concat([measures, measures.head(1).with_columns(source_column=pl.lit(column))])
        with pytest.raises(InputDataError, match="deny-list refuses") as error:
            parse_trust_context(
                EXTRACT,
                sneaked,
                read_reference("trust_context_datasets"),
                read_reference("trust_context_denied"),
                read_reference("trust_context_derived"),
                "trust_profiles.csv",
            )
        assert column in str(error.value)


def test_a_missing_catalogued_column_is_named(tmp_path: Path) -> None:
    text = EXTRACT.read_text(encoding="utf-8").replace("dma_well_led", "dma_wellled", 1)
    broken = tmp_path / "trust_profiles.csv"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(InputDataError, match=r"column 'dma_well_led'.*lacks catalogued column"):
        build_trust_context(str(broken), "trust_profiles.csv")


def test_a_web_run_says_so_in_one_line_and_records_the_snapshot_origin(tmp_path: Path, capsys) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        [raw_trust_context, trust_context],
        resources={
            "source": SourceResource(mode="web", raw_dir=str(tmp_path / "raw")),
            "warehouse": WarehouseResource(database=str(warehouse)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("trust context:")]
    assert len(lines) == 1 and "not parsed yet" in lines[0] and "bundled snapshot" in lines[0]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        used = con.sql(
            "SELECT dataset, origin, sha256 FROM source_files_used WHERE dataset = 'trust_context'"
        ).fetchall()
        rows = con.sql("SELECT count(*) FROM trust_context").fetchall()[0][0]
    finally:
        con.close()
    assert used == [("trust_context", WEB_FALLBACK_ORIGIN, read_manifest_sha())]
    assert rows == build_trust_context(str(EXTRACT), "trust_profiles.csv").height


def read_manifest_sha() -> str:
    with (SNAPSHOT_DIR / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = [r for r in csv.DictReader(handle) if r["dataset"] == "trust_context"]
    return row["sha256"]
