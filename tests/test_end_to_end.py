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
