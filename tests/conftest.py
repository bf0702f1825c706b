"""Shared fixtures: where the real public data is, and an isolated set of output locations per test."""

import os
from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT, SNAPSHOT_DIR

REAL_DATA = Path(os.environ.get("NHS_READINESS_REAL_DATA", PROJECT_ROOT.parent / "shared" / "data" / "real"))
NSS24_WORKBOOK = "NSS24 detailed spreadsheets organisational results.xlsx"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The full real public files (../shared/data/real). CI always has them."""
    if not REAL_DATA.exists():
        pytest.skip(f"the real public data folder {REAL_DATA} is absent (set NHS_READINESS_REAL_DATA)")
    return REAL_DATA


@pytest.fixture(scope="session")
def snapshot_dir() -> Path:
    return SNAPSHOT_DIR


@pytest.fixture
def isolated_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Raw cache, warehouse and published folder inside tmp_path, set through the environment."""
    paths = {
        "raw": tmp_path / "raw",
        "warehouse": tmp_path / "work" / "warehouse.duckdb",
        "published": tmp_path / "published",
    }
    monkeypatch.setenv("NHS_READINESS_RAW_DIR", str(paths["raw"]))
    monkeypatch.setenv("NHS_READINESS_WAREHOUSE", str(paths["warehouse"]))
    monkeypatch.setenv("NHS_READINESS_PUBLISHED_DIR", str(paths["published"]))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return paths
