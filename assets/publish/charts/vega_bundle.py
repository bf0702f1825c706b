"""The Vega, Vega-Lite and vega-embed libraries as one classic script that sets window.vegaEmbed (decision 41).

vl-convert assembles the bundle in about 1.2 s and holds the GIL throughout, so a thread beside it would stall the
report's page writing. `written_in_background` has a child process (this file run as a script, which imports
vl-convert and nothing of the pipeline) write it on another core while the caller writes the pages; a process that
builds several reports (the tests) assembles it once and copies it afterwards.

    python vega_bundle.py VEGA_LITE_VERSION PATH
"""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import vl_convert

_assembled: dict[str, str] = {}


def vega_bundle(vl_version: str) -> str:
    """Wrapped in a function so the bundle's top-level names cannot clash with a page's own scripts."""
    return "(function () {\n" + vl_convert.javascript_bundle(vl_version=vl_version) + "\n})();\n"


@contextmanager
def written_in_background(vl_version: str, path: Path) -> Iterator[None]:
    """Write the bundle for `vl_version` to `path` by the end of the block; if the block fails, stop the child."""
    # the parent makes the folder and the child only writes the file: a child outliving a killed build cannot
    # bring back a building folder that the next build has already cleared away
    path.parent.mkdir(parents=True, exist_ok=True)
    if vl_version in _assembled:
        path.write_text(_assembled[vl_version], encoding="utf-8")
        yield
        return
    child = subprocess.Popen(
        [sys.executable, __file__, vl_version, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield
    except BaseException:
        child.kill()
        child.communicate()
        raise
    _, error = child.communicate()
    if child.returncode:
        reason = error.decode(errors="replace").strip() or f"exit code {child.returncode}"
        raise RuntimeError(f"assembling the Vega bundle {path} failed: {reason}")
    _assembled[vl_version] = path.read_text(encoding="utf-8")


if __name__ == "__main__":
    try:
        Path(sys.argv[2]).write_text(vega_bundle(sys.argv[1]), encoding="utf-8")
    except Exception as error:  # one line for the parent's message; vl-convert appends a Rust backtrace
        sys.exit(f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
