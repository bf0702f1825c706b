"""The Vega bundle is written by a child process while the report's pages are written (decision 41)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from assets.publish.charts import vega_bundle
from assets.publish.charts.export import VEGA_LITE_VERSION
from assets.publish.charts.vega_bundle import written_in_background


def test_the_bundle_arrives_by_the_end_of_the_block_and_once_per_process(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "vega.js", tmp_path / "b" / "vega.js"
    with written_in_background(VEGA_LITE_VERSION, first):
        pass
    bundle = first.read_text(encoding="utf-8")
    assert bundle.startswith("(function () {\n") and bundle.endswith("\n})();\n")
    assert "vegaEmbed" in bundle and len(bundle) > 500_000
    with written_in_background(VEGA_LITE_VERSION, second):
        assert second.read_text(encoding="utf-8") == bundle, "a second build copies the bundle already assembled"


def test_a_failed_bundle_names_the_file_and_the_reason(tmp_path: Path) -> None:
    target = tmp_path / "vega.js"
    with pytest.raises(RuntimeError) as failure, written_in_background("0.1", target):
        pass
    assert str(failure.value) == (
        f"assembling the Vega bundle {target} failed: RuntimeError: Unsupported Vega-Lite version string 0.1"
    )
    assert not target.exists()


def test_a_failing_block_stops_the_child_and_keeps_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vega_bundle, "_assembled", {})  # a child is started even if this process has a bundle
    target = tmp_path / "vega.js"
    with pytest.raises(KeyError, match="page"), written_in_background(VEGA_LITE_VERSION, target):
        raise KeyError("page")
    time.sleep(2.0)  # longer than the child takes to assemble and write the bundle
    assert not target.exists(), "the child was stopped before it wrote"


def test_the_child_never_makes_the_building_folder(tmp_path: Path) -> None:
    """A child outliving a killed build must not bring back a folder the next build has cleared away."""
    cleared = tmp_path / "report.tmp-1" / "assets" / "vega.js"
    child = subprocess.run(
        [sys.executable, vega_bundle.__file__, VEGA_LITE_VERSION, str(cleared)], capture_output=True, text=True
    )
    assert child.returncode == 1
    assert child.stderr.startswith("FileNotFoundError: ")
    assert not (tmp_path / "report.tmp-1").exists()
