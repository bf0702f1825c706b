"""Chart output with vl-convert, offline: PNG and SVG files, standalone HTML with Vega inlined, embeddable specs."""

import base64
import json
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

# vl-convert bundles several Vega-Lite versions; use the one this Altair writes specs for ("v6.4.1" -> "6.4")
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

Chart = alt.TopLevelMixin


def chart_spec(chart: Chart, *, validate: bool = True) -> dict[str, Any]:
    """The Vega-Lite spec. Schema validation costs more than building the spec; the report skips it because the
    chart tests validate every chart function's output."""
    return chart.to_dict(validate=validate)


def save_chart(
    chart: Chart, directory: Path, stem: str, *, scale: float = 2.0, spec: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write <stem>.png and <stem>.svg (rendered by vl-convert with no network) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = spec or chart_spec(chart)
    paths = {"png": directory / f"{stem}.png", "svg": directory / f"{stem}.svg"}
    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)
    paths["svg"].write_text(svg, encoding="utf-8")
    # rasterising the SVG gives the same PNG as rendering the spec again, in about half the time
    paths["png"].write_bytes(vl_convert.svg_to_png(svg, scale=scale))
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


def markdown_image(chart: Chart | None = None, *, svg: str | None = None, alt_text: str, scale: float = 1.0) -> str:
    """Markdown with the chart as an inline PNG, for Dagster's `MetadataValue.md` (the UI shows data: images)."""
    svg = svg if svg is not None else vl_convert.vegalite_to_svg(chart_spec(chart), vl_version=VEGA_LITE_VERSION)  # type: ignore[arg-type]
    png = vl_convert.svg_to_png(svg, scale=scale)
    return f"![{alt_text}](data:image/png;base64,{base64.b64encode(png).decode()})"
