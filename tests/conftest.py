"""Shared fixtures: where the real public data is, and an isolated set of output locations per test."""

import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from filelock import FileLock

from pipeline.settings import DATA_DIR, PROJECT_ROOT, SNAPSHOT_DIR

NSS24_WORKBOOK = "NSS24 detailed spreadsheets organisational results.xlsx"
# the full real data's name for a file the snapshot ships under another path (byte-identical)
SNAPSHOT_ALIASES = {"ods/etr.csv": "ods/2025/etr.csv"}
REAL_DATA_VIEWS: list[Path] = []  # the session's real_data folder, for the report hook below
# The suite runs on three pytest-xdist workers, one test file at a time each (pyproject's addopts: --dist loadfile).
# Files are handed out in collection order, so the longest go first and the short ones fill in around them; the
# rest keep pytest's order (docs/testing.md).
LONGEST_FIRST = (
    "tests/test_postgres_team.py",  # much of it waiting: a build on PostgreSQL and a real daemon tick
    # the shared small build starts here, on another worker, and the whole snapshot's build on the third, so
    # both are ready, or nearly, for the files after them
    "tests/test_dagster_staleness.py",
    "tests/test_report_browser_a11y.py",
    "tests/test_crash_safety.py",
    "tests/corpus/test_pipeline.py",
    "tests/test_concurrent_reader.py",
    "tests/fetch/test_web_run.py",
    "tests/test_dagster_daemon.py",
    "tests/test_performance_pipeline.py",
    "tests/test_dagster_dev.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest files first (stable: tests keep their order within a file and the other files theirs)."""
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}

    def position(item: pytest.Item) -> int:  # a test file outside the project (a child pytest's) goes last
        inside = item.path.is_relative_to(PROJECT_ROOT)
        return rank.get(item.path.relative_to(PROJECT_ROOT).as_posix(), len(rank)) if inside else len(rank)

    items.sort(key=position)


def real_files_view(target: Path, snapshot: Path) -> Path:
    """A folder laid out like the full real public data (its publishers' folders) whose files are links into
    data/snapshot/, plus the full data's names for the files the snapshot ships under another path. A test needing a
    file the snapshot does not ship meets a missing file, and fails saying so (see `pytest_runtest_makereport`)."""
    links = {str(f.relative_to(snapshot)): f for f in snapshot.rglob("*") if f.is_file()}
    links |= {alias: snapshot / shipped for alias, shipped in SNAPSHOT_ALIASES.items()}
    for relative, source in links.items():
        link = target / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source.resolve())
    return target


@pytest.fixture(scope="session")
def real_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real public files, read from data/snapshot/: a fresh clone runs every test that uses them, and nothing
    is read from outside the repository."""
    view = real_files_view(tmp_path_factory.mktemp("real_data"), SNAPSHOT_DIR)
    REAL_DATA_VIEWS.append(view)
    return view


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """A test that failed on a real public file the snapshot does not ship fails saying which file to ship."""
    report = yield
    error = call.excinfo.value if call.excinfo else None
    missing = Path(str(getattr(error, "filename", None) or ""))
    view = next((v for v in REAL_DATA_VIEWS if missing.is_relative_to(v)), None)
    if isinstance(error, FileNotFoundError) and view is not None:
        needed = missing.relative_to(view)
        report.longrepr = f"needs the real public file {needed}, which data/snapshot/ does not ship: add it there"
    return report


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
    """Output locations of one `nhs-readiness run` on (a moved copy of) the bundled snapshot."""

    root: Path
    snapshot: Path
    seconds: float

    @property
    def environment(self) -> dict[str, str]:
        # some locations as file:// URIs, as object-storage-style configuration would give them
        return {
            "NHS_READINESS_SNAPSHOT_DIR": self.snapshot.as_uri(),
            "NHS_READINESS_RAW_DIR": str(self.root / "raw"),
            "NHS_READINESS_WAREHOUSE": (self.root / "work" / "warehouse.duckdb").as_uri(),
            "NHS_READINESS_PUBLISHED_DIR": (self.root / "published").as_uri(),
        }

    @property
    def published(self) -> Path:
        return self.root / "published" / "nhs_change_readiness.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.root / "work" / "warehouse.duckdb"

    def copy_to(self, target: Path, *, instance: bool = False) -> "SnapshotBuild":
        """A private copy of the outputs that a test may rebuild, break or kill runs in (the snapshot it reads
        stays shared and read-only); the shared build stays untouched. With `instance`, the build's Dagster
        instance goes with it, where the command line looks for it when DAGSTER_HOME is unset (beside the
        warehouse), so a run there rebuilds only what is stale; without it a run rebuilds everything."""
        shutil.copytree(self.root, target, symlinks=True, ignore=shutil.ignore_patterns("dagster_home"))
        if instance:
            shutil.copytree(self.root / "dagster_home", target / "work" / "dagster_home")
        return SnapshotBuild(target, self.snapshot, self.seconds)


@dataclass(frozen=True)
class SessionBuild(SnapshotBuild):
    """The shared build, and what it did to the project's data/ folder (it must do nothing)."""

    data_changes: dict[str, tuple[int, int] | None] = field(default_factory=dict)

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"


@pytest.fixture(scope="session")
def snapshot_build(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SessionBuild:
    """The whole pipeline run once on the snapshot, shared by the tests that check published figures (a full
    build with the report costs about a minute; tests must not write into it: use copy_to).

    Every location is moved out of the project (the snapshot copied elsewhere, raw cache, warehouse, published
    outputs and a persistent DAGSTER_HOME), so this build also shows that nothing depends on data/."""
    return _shared_build(
        "snapshot_build", tmp_path_factory, request, lambda target: shutil.copytree(SNAPSHOT_DIR, target)
    )


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> SessionBuild:
    """The pipeline run once on a small snapshot of real files of every kind (one survey year, a few months:
    `small_snapshot_rows`), shared by the tests that need a good build to rebuild, kill or republish but check no
    published figure (about 20 s on an idle two-core machine, against about 35 s for the whole snapshot)."""
    from tests.helpers.operations import small_snapshot_rows
    from tests.helpers.performance import private_snapshot

    return _shared_build(
        "small_build", tmp_path_factory, request, lambda target: private_snapshot(target, small_snapshot_rows())
    )


def _shared_build(
    name: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    make_snapshot: Callable[[Path], object],
) -> SessionBuild:
    """A build shared by every test of the session. Under pytest-xdist it is shared by the workers too: the first
    worker to need it builds it in the session's common temporary folder while holding a file lock, the others
    wait for it and read its record."""
    if not hasattr(request.config, "workerinput"):  # one process (-n 0): the session's own folder
        return _build(tmp_path_factory.mktemp(name), make_snapshot)
    common = tmp_path_factory.getbasetemp().parent  # pytest-xdist: one folder per run, shared by its workers
    record = common / f"{name}.json"
    with FileLock(common / f"{name}.lock"):
        if not record.exists():
            build = _build(common / name, make_snapshot)
            fields = {"root": str(build.root), "snapshot": str(build.snapshot), "seconds": build.seconds}
            record.write_text(json.dumps({**fields, "data_changes": build.data_changes}))
    saved = json.loads(record.read_text())
    changes = {k: None if v is None else (v[0], v[1]) for k, v in saved["data_changes"].items()}
    return SessionBuild(Path(saved["root"]), Path(saved["snapshot"]), saved["seconds"], changes)


def _build(root: Path, make_snapshot: Callable[[Path], object]) -> SessionBuild:
    from pipeline.cli import main
    from tests.helpers.operations import tree_listing

    shutil.rmtree(root, ignore_errors=True)  # a worker whose build failed may have left part of one
    root.mkdir(parents=True)
    snapshot = root.parent / f"{root.name}-snapshot" / "snapshot"
    shutil.rmtree(snapshot, ignore_errors=True)
    make_snapshot(snapshot)
    build = SnapshotBuild(root, snapshot, 0.0)
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml", dagster_home / "dagster.yaml")
    data_before = tree_listing(DATA_DIR, ignore=(), folders=True)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in build.environment.items():
            mp.setenv(name, value)
        mp.setenv("DAGSTER_HOME", str(dagster_home))
        mp.delenv("NHS_READINESS_SOURCE", raising=False)
        started = time.monotonic()
        assert main(["run"]) == 0
        seconds = time.monotonic() - started
    data_after = tree_listing(DATA_DIR, ignore=(), folders=True)
    changes = {
        k: data_after.get(k) for k in data_before.keys() | data_after.keys() if data_before.get(k) != data_after.get(k)
    }
    return SessionBuild(root, snapshot, seconds, changes)


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


@pytest.fixture(autouse=True)
def _forget_dagster_state_storage() -> Iterator[None]:
    """Entering a Dagster instance points a process-wide context variable at its state storage, and leaving it
    restores whatever was there before, which may be the storage of an instance whose temporary folder is gone
    (a module fixture's teardown runs after the previous test's); the next `dg.materialize` would then open a
    database that no longer exists. The project keeps no definitions state, so every test starts and ends
    without one."""
    from dagster._core.storage.defs_state.base import _current_storage

    _current_storage.set(None)
    yield
    _current_storage.set(None)
