""".ci/run never runs the suite without the browser: it fails when Chromium cannot be installed."""

import os
import shutil
import subprocess
from pathlib import Path

from pipeline.settings import PROJECT_ROOT


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _fake_path(tmp_path: Path, apt_get: str) -> tuple[dict[str, str], Path]:
    """A PATH with no Chromium, a `uv` that records its calls, and the given `apt-get`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    calls = tmp_path / "uv_calls"
    _stub(folder, "uv", f'echo "$@" >> {calls}')
    _stub(folder, "apt-get", apt_get)
    for tool in ("dirname",):
        (folder / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
    return {**{k: v for k, v in os.environ.items() if k != "CI"}, "PATH": str(folder)}, calls


def test_ci_fails_when_chromium_cannot_be_installed(tmp_path: Path) -> None:
    env, calls = _fake_path(tmp_path, "exit 100")
    result = subprocess.run(
        ["/bin/bash", str(PROJECT_ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "chromium could not be installed" in result.stderr and "skipped" not in result.stderr + result.stdout
    assert not calls.exists(), "the suite must not run without the browser"


def test_ci_runs_the_readme_command_once_chromium_is_there(tmp_path: Path) -> None:
    env, calls = _fake_path(tmp_path, "exit 0")
    _stub(tmp_path / "bin", "chromium", "exit 0")
    result = subprocess.run(
        ["/bin/bash", str(PROJECT_ROOT / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    first, *alone = calls.read_text().splitlines()
    assert first == "run pytest"
    assert alone and all(line.startswith("run pytest -q -p no:cacheprovider tests/") for line in alone)
