"""The researcher view v_trust_year and the README's three example queries, on the file the end-to-end build
publishes (the session snapshot_build of tests/conftest.py: no second full build)."""

import contextlib
import csv
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipeline.cli import main
from pipeline.settings import PROJECT_ROOT
from tests.conftest import SnapshotBuild
from tests.helpers.end_to_end import rbn_sickness_absence_2024_25
from tests.test_end_to_end import NSS24_TRUST_GROUPS

README_SECTION = "## Researcher access"
README_PUBLISHED_DIR = "data/published/"


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> Path:
    """The published file of the session's one snapshot build (tests/conftest.py); read it, never write it."""
    return snapshot_build.published


def readme_examples() -> list[tuple[str, str]]:
    """(language, code) of every fenced block in the README's researcher section, in order."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(\w+)\n(.*?)```", section, re.S)


def run_python_example(code: str, published_file: Path) -> dict[str, Any]:
    """Execute a README block against the test's published folder; returns the names it defined."""
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code.replace(README_PUBLISHED_DIR, f"{published_file.parent}/"), "README.md", "exec"), namespace)
    return namespace


def test_readme_has_the_three_examples() -> None:
    assert [language for language, _ in readme_examples()] == ["python", "python", "bash"]


def test_v_trust_year_matches_the_real_tables(published: Path) -> None:
    con = duckdb.connect(str(published), read_only=True)
    assert con.sql("SELECT count(*), count(DISTINCT (org_code, survey_year)) FROM v_trust_year").fetchall() == (
        con.sql("SELECT count(*), count(*) FROM readiness_index").fetchall()
    )
    rbn = con.sql("FROM v_trust_year WHERE org_code = 'RBN' AND survey_year = 2024").pl().row(0, named=True)
    # NSS24 organisational workbook, sheet 'HEALTH WELLBEING SAFETY Q12', row 84 (RBN): the survey's name for it;
    # ODS etr.csv row 26: RBN, region Y62 (North West), ICB QYG
    assert rbn["org_name"] == "Mersey and West Lancashire Teaching Hospitals NHS Trust"
    assert (rbn["region"], rbn["icb_code"], rbn["ics"]) == ("North West", "QYG", "Cheshire and Merseyside")
    assert rbn["benchmarking_group"] == "Acute and Acute & Community Trusts" and rbn["n_in_group"] == 122
    # the index, rank and weakest factors are readiness_index's; each factor column is that factor's score
    index = con.sql("FROM readiness_index WHERE org_code = 'RBN' AND survey_year = 2024").pl().row(0, named=True)
    for column in ("index_score", "index_lo", "index_hi", "rank_in_group", "rank_lo", "rank_hi", "coverage"):
        assert rbn[column] == index[column], column
    assert rbn["weakest_factor_1_name"] == index["weakest_factor_1_name"]
    factors = dict(
        con.sql("SELECT factor_id, score FROM factor_scores WHERE org_code = 'RBN' AND survey_year = 2024").fetchall()
    )
    assert [rbn[f"factor_{f}_score"] for f in range(1, 8)] == [factors[f] for f in range(1, 8)]
    # survey year 2024 pairs with financial year 2024-25: all 12 sickness months, no RTT or cancer months offline
    assert rbn["financial_year"] == "2024-25"
    assert rbn["sickness_absence_pct"] == pytest.approx(rbn_sickness_absence_2024_25(), abs=1e-9)
    assert rbn["sickness_absence_months"] == 12 and rbn["ae_4hr_months"] == 12
    assert (rbn["rtt_18w_pct"], rbn["cancer_fds_pct"]) == (None, None)
    # A&E 4-hour: the ratio of the year's summed counts in performance_monthly, not a mean of monthly percentages
    (ae,) = con.sql(
        "SELECT 100 * sum(numerator) / sum(denominator) FROM performance_monthly WHERE org_code = 'RBN' "
        "AND measure = 'ae_4hr_pct_all' AND period_month BETWEEN DATE '2024-04-01' AND DATE '2025-03-01'"
    ).fetchone()  # type: ignore[misc]
    assert rbn["ae_4hr_pct"] == pytest.approx(ae, abs=1e-9)
    # 2021 is listed, not ranked (18 extract questions); financial year 2021-22 has no performance data offline
    rbn_2021 = con.sql("FROM v_trust_year WHERE org_code = 'RBN' AND survey_year = 2021").pl().row(0, named=True)
    assert (rbn_2021["ranked"], rbn_2021["rank_in_group"], rbn_2021["financial_year"]) == (False, None, None)
    # described like a table: a comment on every column and a row in data_tables
    assert con.sql(
        "SELECT count(*), count(comment) FROM duckdb_columns() WHERE table_name = 'v_trust_year'"
    ).fetchall() == [(37, 37)]
    assert con.sql("SELECT row_count FROM data_tables WHERE table_name = 'v_trust_year'").fetchall() == [(855,)]


def test_readme_duckdb_example(published: Path) -> None:
    _, code = readme_examples()[0]
    top = run_python_example(code, published)["top_acute"]
    con = duckdb.connect(str(published), read_only=True)
    expected = con.sql(
        "SELECT org_code, rank_in_group FROM readiness_index WHERE survey_year = 2024 "
        "AND benchmarking_group = 'Acute and Acute & Community Trusts' ORDER BY rank_in_group, org_code LIMIT 10"
    ).fetchall()
    assert [(row[0], row[5]) for row in top] == expected and expected[0][1] == 1
    assert all(
        lo <= score <= hi and rank_lo <= rank <= rank_hi for _, _, score, lo, hi, rank, rank_lo, rank_hi, _ in top
    )


def test_readme_polars_example(published: Path) -> None:
    _, code = readme_examples()[1]
    support = run_python_example(code, published)["support"]
    per_group = dict(support.group_by("benchmarking_group").agg(pl.col("trusts").sum()).iter_rows())
    assert per_group == NSS24_TRUST_GROUPS
    # null: no advice, because it does not survive its uncertainty (readiness_index.support_status says why)
    assert set(support["suggested_support_type"]) <= {
        "Type 1: prod organisations",
        "Type 2: proactive support",
        "Type 3: people-focused",
        None,
    }


def test_readme_cli_example(published: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, code = readme_examples()[2]
    (sql,) = re.findall(r'-c "(.*)"', code)
    assert code.startswith(f"duckdb -readonly {README_PUBLISHED_DIR}nhs_change_readiness.duckdb")
    cli = shutil.which("duckdb")
    if cli:
        output = subprocess.run(
            [cli, "-readonly", "-csv", str(published), "-c", sql], capture_output=True, text=True, check=True
        ).stdout
    else:  # the README's fallback: the same SQL through the duckdb Python package
        capsys.readouterr()
        assert main(["query", sql, "--database", str(published), "--format", "csv"]) == 0
        output = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [row["survey_year"] for row in rows] == ["2021", "2022", "2023", "2024"]
    assert [row["rank_status"] == "ranked" for row in rows] == [False, False, False, True]
    assert rows[3]["financial_year"] == "2024-25"
    assert float(rows[3]["sickness_absence_pct"]) == pytest.approx(rbn_sickness_absence_2024_25(), rel=1e-9)
