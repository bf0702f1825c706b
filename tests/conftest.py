"""Shared fixtures: where the real public data is, and an isolated set of output locations per test."""

import os
import shutil
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SnapshotBuild:
    """Output locations of one `nhs-readiness run` on the bundled snapshot."""

    root: Path
    seconds: float

    @property
    def environment(self) -> dict[str, str]:
        return {
            "NHS_READINESS_RAW_DIR": str(self.root / "raw"),
            "NHS_READINESS_WAREHOUSE": str(self.root / "work" / "warehouse.duckdb"),
            "NHS_READINESS_PUBLISHED_DIR": str(self.root / "published"),
        }

    @property
    def published(self) -> Path:
        return self.root / "published" / "nhs_change_readiness.duckdb"

    def copy_to(self, target: Path) -> "SnapshotBuild":
        """A private copy that a test may rebuild, break or kill runs in; the shared build stays untouched."""
        shutil.copytree(self.root, target, symlinks=True)
        return SnapshotBuild(target, self.seconds)


@pytest.fixture(scope="session")
def snapshot_build(tmp_path_factory: pytest.TempPathFactory) -> SnapshotBuild:
    """The whole pipeline run once on the snapshot, shared by the tests that need a good build to start from
    (a full build costs about half a minute; tests must not write into it: use copy_to)."""
    from pipeline.cli import main

    build = SnapshotBuild(tmp_path_factory.mktemp("snapshot_build"), 0.0)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in build.environment.items():
            mp.setenv(name, value)
        mp.delenv("DAGSTER_HOME", raising=False)
        started = time.monotonic()
        assert main(["run"]) == 0
        return SnapshotBuild(build.root, time.monotonic() - started)


@pytest.fixture
def snapshot_build_copy(
    snapshot_build: SnapshotBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SnapshotBuild:
    """A private copy of the shared snapshot build, with the environment pointing at it."""
    build = snapshot_build.copy_to(tmp_path / "build")
    for name, value in build.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return build
