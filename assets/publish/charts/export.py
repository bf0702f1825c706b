"""Chart output with vl-convert, offline: PNG and SVG files, standalone HTML with Vega inlined, embeddable specs."""

import base64
import json
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
import vl_convert

# vl-convert bundles several Vega-Lite versions; use the one this Altair writes specs for ("v6.4.1" -> "6.4")
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

Chart = alt.TopLevelMixin
# the dataset a chart body reads when it is built once and filled with each chart's rows (`filled_spec`)
ROWS = "rows"
ROWS_DATA = alt.NamedData(ROWS)


def chart_spec(chart: Chart | dict[str, Any], *, validate: bool = True) -> dict[str, Any]:
    """The Vega-Lite spec (a spec already made, such as a `filled_spec`, is returned as it is). Schema validation
    costs more than building the spec; the report skips it because the chart tests validate every chart function's
    output."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=validate)


def filled_spec(body: dict[str, Any], rows: pl.DataFrame, title: alt.TitleParams) -> dict[str, Any]:
    """One chart's spec from a body spec built once (no title, data the named dataset ROWS): its title and rows.

    Altair spends about 30 ms composing and serialising a layered or faceted chart, nearly all of it deep-copying
    chart objects, and the report draws three such charts for each of about 210 trusts that differ only in their
    rows and title; filling one body per chart kind takes about 2 ms. The rows are converted as Altair converts
    them (its active data transformer), so the spec is the one `to_dict` would write."""
    values = alt.data_transformers.get()(rows)["values"]
    # the title is built by our own `common.title`, which the chart tests validate; validating it again for each of
    # about 640 charts cost about a second
    return {**body, "title": title.to_dict(validate=False), "datasets": {ROWS: values}}


def body_spec(chart: Chart) -> dict[str, Any]:
    """The validated spec of a chart body for `filled_spec`, which must read ROWS_DATA and have no title yet."""
    spec = chart_spec(chart)
    if spec.get("data") != {"name": ROWS} or "title" in spec:
        raise ValueError("a chart body must read the named dataset ROWS at its top level and have no title")
    return spec


def save_chart(chart: Chart | dict[str, Any], directory: Path, stem: str, *, scale: float = 2.0) -> dict[str, Path]:
    """Write <stem>.png and <stem>.svg (rendered by vl-convert with no network) and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = chart_spec(chart)
    paths = {"png": directory / f"{stem}.png", "svg": directory / f"{stem}.svg"}
    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)
    paths["svg"].write_text(svg, encoding="utf-8")
    # rasterising the SVG gives the same PNG as rendering the spec again, in about half the time
    paths["png"].write_bytes(vl_convert.svg_to_png(svg, scale=scale))
    return paths


def standalone_html(chart: Chart) -> str:
    """One HTML page with the Vega libraries inlined (~900 KB), which opens from disk with no network."""
    return vl_convert.vegalite_to_html(chart_spec(chart), vl_version=VEGA_LITE_VERSION, bundle=True)


def spec_json_for_html(spec: dict[str, Any]) -> str:
    """JSON safe inside <script type="application/json">: '</' would end the script element early."""
    return json.dumps(spec, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def markdown_image(chart: Chart | None = None, *, svg: str | None = None, alt_text: str, scale: float = 1.0) -> str:
    """Markdown with the chart as an inline PNG, for Dagster's `MetadataValue.md` (the UI shows data: images)."""
    svg = svg if svg is not None else vl_convert.vegalite_to_svg(chart_spec(chart), vl_version=VEGA_LITE_VERSION)  # type: ignore[arg-type]
    png = vl_convert.svg_to_png(svg, scale=scale)
    return f"![{alt_text}](data:image/png;base64,{base64.b64encode(png).decode()})"
