"""`nhs-readiness run` on the bundled snapshot, then queries against the published file."""

import duckdb
import pytest

from pipeline.cli import main


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NHS_READINESS_RAW_DIR", str(root / "raw"))
        mp.setenv("NHS_READINESS_WAREHOUSE", str(root / "work" / "warehouse.duckdb"))
        mp.setenv("NHS_READINESS_PUBLISHED_DIR", str(root / "published"))
        mp.delenv("DAGSTER_HOME", raising=False)
        assert main(["run"]) == 0
        first_build = (root / "published" / "nhs_change_readiness.duckdb").stat().st_mtime_ns
        assert main(["run"]) == 0  # nothing changed: reused, file untouched
        path = root / "published" / "nhs_change_readiness.duckdb"
        assert path.stat().st_mtime_ns == first_build
        yield path


def test_published_file_answers_queries(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    # from the real ODS etr 2026 export: 274 rows, RBN open in the North West
    assert con.sql("SELECT count(*) FROM ods_trusts").fetchall() == [(274,)]
    assert con.sql("SELECT region_name, close_date FROM ods_trusts WHERE org_code = 'RBN'").fetchall() == [
        ("North West", None)
    ]
    assert con.sql("SELECT DISTINCT source_mode FROM build_info").fetchall() == [("snapshot",)]


def test_published_file_has_the_performance_tables(published) -> None:
    con = duckdb.connect(str(published), read_only=True)
    months = dict(
        con.sql("SELECT dataset, count(DISTINCT period_month) FROM performance_monthly GROUP BY 1").fetchall()
    )
    # the snapshot months: A&E Apr 2024-Jun 2025, sickness Apr 2024-Mar 2025, RTT Apr 2026, cancer Apr 2025 + Jan 2026
    assert months == {"ae": 15, "sickness": 12, "rtt": 1, "cancer": 2}
    measures = {m for (m,) in con.sql("SELECT DISTINCT measure FROM performance_monthly").fetchall()}
    assert len(measures) == 10 and measures == {
        m for (m,) in con.sql("SELECT measure FROM performance_measures").fetchall()
    }
    # RTT PROVENANCE.md: RTH (Oxford University Hospitals) 90,210 incomplete pathways, 62.1% within 18 weeks
    rth = con.sql(
        "SELECT measure, value FROM performance_monthly WHERE org_code = 'RTH' AND period_month = DATE '2026-04-01'"
    ).fetchall()
    assert dict(rth)["rtt_incomplete"] == 90_210 and round(dict(rth)["rtt_within_18w_pct"], 1) == 62.1
    assert con.sql("SELECT typeof(period_month) FROM performance_monthly LIMIT 1").fetchall() == [("DATE",)]
    # 2024-25: twelve months of A&E and sickness absence for a trust present all year
    assert con.sql(
        "SELECT months_covered FROM performance_annual WHERE org_code = 'RTH' AND financial_year = '2024-25' "
        "AND measure IN ('ae_4hr_pct_all', 'sickness_absence_pct')"
    ).fetchall() == [(12,), (12,)]
    assert con.sql("SELECT count(*) FROM performance_unmatched WHERE dataset = 'ae'").fetchall()[0][0] > 0
    described = con.sql("SELECT count(*) FROM data_dictionary WHERE table_name = 'performance_monthly'").fetchall()
    assert described == [(12,)]
