"""Chart output with vl-convert, offline: PNG and SVG files, standalone HTML with Vega inlined, embeddable specs."""

import json
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

# vl-convert bundles several Vega-Lite versions; use the one this Altair writes specs for ("v6.4.1" -> "6.4")
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

Chart = alt.TopLevelMixin


def chart_spec(chart: Chart) -> dict[str, Any]:
    return chart.to_dict()


def save_chart(chart: Chart, directory: Path, stem: str, *, scale: float = 2.0) -> dict[str, Path]:
    """Write <stem>.png and <stem>.svg (rendered by vl-convert with no network) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = chart_spec(chart)
    paths = {"png": directory / f"{stem}.png", "svg": directory / f"{stem}.svg"}
    paths["png"].write_bytes(vl_convert.vegalite_to_png(spec, vl_version=VEGA_LITE_VERSION, scale=scale))
    paths["svg"].write_text(vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION), encoding="utf-8")
    return paths


def standalone_html(chart: Chart) -> str:
    """One HTML page with the Vega libraries inlined (~900 KB), which opens from disk with no network."""
    return vl_convert.vegalite_to_html(chart_spec(chart), vl_version=VEGA_LITE_VERSION, bundle=True)


def vega_bundle() -> str:
    """The Vega, Vega-Lite and vega-embed libraries as one classic script that sets window.vegaEmbed.

    Wrapped in a function so the bundle's top-level names cannot clash with a page's own scripts."""
    return "(function () {\n" + vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION) + "\n})();\n"


def spec_json_for_html(spec: dict[str, Any]) -> str:
    """JSON safe inside <script type="application/json">: '</' would end the script element early."""
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")
