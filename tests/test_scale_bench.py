"""bench/scale.py: its synthetic months parse with the real parsers and carry the relabelled period; `-m slow`
runs the whole benchmark at three months.

The synthetic files are real files from data/snapshot/ with only the period relabelled, so every figure the parsers
read must equal the figure in the real file (cited below), now dated in the new month.
"""

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.staged.ae.parse import parse_ae_csv
from assets.staged.cancer.parse import parse_cancer_workbook
from assets.staged.rtt.parse import parse_rtt_zip
from assets.staged.sickness.parse import parse_sickness_csv
from pipeline.errors import InputDataError
from pipeline.settings import PROJECT_ROOT, SNAPSHOT_DIR


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_scale", PROJECT_ROOT / "bench" / "scale.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


scale = _load_bench()
NEW_MONTH = date(2017, 2, 1)


def _value(measures: pl.DataFrame, org: str, measure: str, column: str = "value") -> float:
    row = measures.filter((pl.col("reported_org_code") == org) & (pl.col("measure") == measure))
    assert row.height == 1, (org, measure)
    return row[column][0]


def test_month_sequence_stops_where_partitions_start() -> None:
    assert scale.month_sequence(date(2024, 1, 1), 3, date(2000, 1, 1)) == [
        date(2023, 11, 1),
        date(2023, 12, 1),
        date(2024, 1, 1),
    ]
    # cancer partitions start in October 2023: ten years back from October 2026 leaves 37 months
    cancer = scale.month_sequence(date(2026, 10, 1), 120, date(2023, 10, 1))
    assert (len(cancer), cancer[0]) == (37, date(2023, 10, 1))


def test_relabelled_ae_csv_parses_as_the_new_month(tmp_path: Path) -> None:
    real = SNAPSHOT_DIR / "ae-attendances" / "Monthly-AE-May-2025.csv"
    target = tmp_path / "ae.csv"
    target.write_bytes(scale.relabel_ae_csv(real.read_bytes(), NEW_MONTH))
    assert "MSitAE-FEBRUARY-2017,RTH," in target.read_text()
    measures = parse_ae_csv(target, NEW_MONTH).measures
    # Monthly-AE-May-2025.csv line 194 (RTH): type 1 attendances 12,792 + booked 1,779; over 4 hours 4,421 + 494
    assert _value(measures, "RTH", "ae_4hr_pct_type1", "denominator") == 12_792 + 1_779
    assert _value(measures, "RTH", "ae_4hr_pct_type1", "numerator") == 12_792 + 1_779 - 4_421 - 494
    with pytest.raises(InputDataError, match="not the data month May 2025"):
        parse_ae_csv(target, date(2025, 5, 1))


def test_relabelled_sickness_csv_parses_as_the_new_month(tmp_path: Path) -> None:
    real = SNAPSHOT_DIR / "sickness-absence" / "nhs_sickness_absence_2024-06.csv"
    target = tmp_path / "sickness.csv"
    target.write_bytes(scale.relabel_sickness_csv(real.read_bytes(), NEW_MONTH))
    measures = parse_sickness_csv(target, NEW_MONTH).measures
    # nhs_sickness_absence_2024-06.csv line 117 (RTH): FTE days lost 15288.40234 of 408339.58607 available
    assert _value(measures, "RTH", "sickness_absence_pct", "numerator") == pytest.approx(15288.40234)
    assert _value(measures, "RTH", "sickness_absence_pct", "denominator") == pytest.approx(408339.58607)
    assert target.read_text().splitlines()[116].startswith("28/02/2017,")
    with pytest.raises(InputDataError, match="not in the data month June 2024"):
        parse_sickness_csv(target, date(2024, 6, 1))


def test_relabelled_rtt_zip_holds_one_csv_of_the_new_month(tmp_path: Path) -> None:
    real = SNAPSHOT_DIR / "rtt" / "20260430-RTT-April-2026-full-extract.csv.zip"
    target = tmp_path / "rtt.csv.zip"
    scale.relabel_rtt_zip(real, target, date(2026, 4, 1), NEW_MONTH, compresslevel=1)
    import zipfile

    assert zipfile.ZipFile(target).namelist() == ["20170228-RTT-February-2017-full-extract.csv"]
    measures = parse_rtt_zip(target, NEW_MONTH).measures
    # rtt PROVENANCE.md: RTH (Oxford University Hospitals) 90,210 incomplete pathways, 62.1% within 18 weeks
    assert _value(measures, "RTH", "rtt_incomplete") == 90_210
    assert round(_value(measures, "RTH", "rtt_within_18w_pct"), 1) == 62.1


def test_relabelled_cancer_workbook_gives_the_new_month_in_its_title_block(tmp_path: Path) -> None:
    real = SNAPSHOT_DIR / "cancer-waiting-times" / "APRIL-2025-CWT-CRS-PROVIDER-WORKBOOK-PROVISIONAL (2).xlsx"
    target = tmp_path / "cancer.xlsx"
    scale.relabel_cancer_workbook(real, target, date(2025, 4, 1), NEW_MONTH)
    measures = parse_cancer_workbook(target, "provider_workbook", NEW_MONTH).measures
    # sheet '28-DAY FDS (ALL ROUTES)' row 10 (RCF, Airedale): TOTAL E10 = 781, WITHIN 28 DAYS F10 = 642
    assert _value(measures, "RCF", "cancer_fds_pct", "denominator") == 781
    assert _value(measures, "RCF", "cancer_fds_pct", "numerator") == 642
    with pytest.raises(InputDataError, match="title block gives April 2025"):
        parse_cancer_workbook(real, "provider_workbook", NEW_MONTH)


def test_synthetic_manifest_says_every_generated_file_is_synthetic(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(scale, "MONTHLY", {"ae": ("monthly_csv",), "sickness": ("monthly_csv",)})
    counts = scale.synthesise(tmp_path, 2, date(2026, 10, 1))
    # the snapshot's survey years 2021-2025 (extract, NSS24 workbook, 2025 scores via the context extract), unchanged
    assert counts == {"ae": 2, "sickness": 2, "staff_survey": 5}
    manifest = pl.read_csv(tmp_path / "manifest.csv", infer_schema=False)
    unchanged = ~pl.col("dataset").is_in(["ae", "sickness"])
    assert manifest.filter(unchanged)["licence"].str.starts_with("real file, unchanged").all()
    assert (tmp_path / "nhs-staff-survey" / "data.NHS.2012_2019.csv").exists()  # index_validity needs the panel
    workbooks = SNAPSHOT_DIR / "nhs-staff-survey-nss24-workbooks"
    shipped = workbooks / "NSS24 detailed spreadsheets organisational results.xlsx"
    copied = tmp_path / "nhs-staff-survey-nss24-workbooks" / shipped.name
    assert copied.read_bytes() == shipped.read_bytes()
    generated = manifest.filter(~unchanged)
    assert generated["period"].to_list() == ["2026-09-01", "2026-10-01", "2026-09-01", "2026-10-01"]
    assert generated["licence"].str.starts_with("SYNTHETIC").all()
    assert generated["official_name"].str.starts_with("SYNTHETIC").all()
    assert "SYNTHETIC" in (tmp_path / "PROVENANCE.md").read_text()


@pytest.mark.slow
def test_scale_benchmark_runs_end_to_end_at_three_months(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert scale.main(["--months", "3", "--workdir", str(tmp_path / "work"), "--json", str(results)]) == 0
    (result,) = json.loads(results.read_text())
    assert result["partitions"] == {"ae": 3, "rtt": 3, "cancer": 3, "sickness": 3, "staff_survey": 5}
    assert result["sizes_mb"]["published_duckdb"] > 0 and result["peak_rss_mb"] > 0
