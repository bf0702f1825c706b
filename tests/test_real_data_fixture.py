"""The tests' real public files come from data/snapshot/; a test needing an unshipped one fails, and says which."""

import os
import subprocess
import sys
from pathlib import Path

from pipeline.settings import PROJECT_ROOT, SNAPSHOT_DIR
from tests.conftest import real_files_view


def test_the_view_reads_every_shipped_file_from_the_snapshot(tmp_path: Path) -> None:
    view = real_files_view(tmp_path / "view", SNAPSHOT_DIR)
    etr = view / "ods" / "2026" / "etr.csv"
    assert etr.resolve() == (SNAPSHOT_DIR / "ods" / "2026" / "etr.csv").resolve()
    assert (view / "ods" / "etr.csv").read_bytes() == (SNAPSHOT_DIR / "ods" / "2025" / "etr.csv").read_bytes()
    shipped = {str(f.relative_to(SNAPSHOT_DIR)) for f in SNAPSHOT_DIR.rglob("*") if f.is_file()}
    assert shipped <= {str(f.relative_to(view)) for f in view.rglob("*")}


def _pytest(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # one process (-n 0): the child's few tests gain nothing from workers of their own
    environment = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_XDIST")} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_real_data_tests_pass_with_nothing_but_the_snapshot() -> None:
    """Files whose tests read real files through the fixture: all pass, none skips."""
    result = _pytest(["tests/test_ods.py", "tests/fetch/test_zipsafe.py", "-rs"])
    assert result.returncode == 0, result.stdout[-3000:]
    assert "passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-3000:]


def test_a_test_needing_an_unshipped_file_fails_naming_it_with_or_without_ci(tmp_path: Path) -> None:
    needing = tmp_path / "test_needs_unshipped.py"
    needing.write_text(
        "def test_needs(real_data):\n    (real_data / 'nhs-staff-survey' / '2017.NHS-detailed.csv').read_bytes()\n"
    )
    args = ["-p", "tests.conftest", "--rootdir", str(tmp_path), str(needing), "-rs"]
    for environment in ({"CI": "true"}, {}):
        result = _pytest(args, **environment)
        assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout[-3000:]
        assert "2017.NHS-detailed.csv, which data/snapshot/ does not ship" in result.stdout
