"""What every chart shares: DECIMAL casting, colour-blind-safe colours, titles with a source caption."""

from datetime import date

import altair as alt
import polars as pl

# Okabe & Ito (2008) palette: distinguishable under the common colour-vision deficiencies.
BLUE = "#0072B2"
SKY = "#56B4E9"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
GREY = "#999999"
LIGHT_GREY = "#DDDDDD"
BLACK = "#000000"

# Making Data Count point colours as NHSRplotthedots 0.2 draws them (ptd_spc_colours): blue improvement,
# orange concern, purple neutral, grey common cause. Blue against orange stays distinct for colour-blind readers.
SPC_COLOURS = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}
SPC_LABELS = {
    "common_cause": "Common cause variation",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: neutral (high)",
    "special_cause_neutral_low": "Special cause: neutral (low)",
}

CHART_WIDTH = 560


def decimals_to_double(frame: pl.DataFrame) -> pl.DataFrame:
    """DuckDB DECIMAL columns arrive as pl.Decimal, which Vega-Lite receives as strings; chart them as Float64."""
    decimal_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)]
    return frame.with_columns(pl.col(decimal_columns).cast(pl.Float64)) if decimal_columns else frame


def caption(source: str, built_on: date) -> str:
    """The source-and-date line every chart carries."""
    return f"Source: {source.rstrip('.')}. Built {built_on.isoformat()}."


def title(text: str, *subtitle: str) -> alt.TitleParams:
    """A chart title whose last subtitle line is the source caption."""
    return alt.TitleParams(
        text=text, subtitle=list(subtitle), anchor="start", subtitleColor="#444444", subtitleFontSize=11
    )


def require_columns(frame: pl.DataFrame, columns: set[str], what: str) -> None:
    missing = columns - set(frame.columns)
    if missing:
        raise ValueError(f"{what} lacks column(s) {sorted(missing)}")


def fmt(value: float | None, digits: int = 2) -> str:
    return "not measured" if value is None else f"{value:.{digits}f}"
