"""Chart choices kept as data: axis units, funnel limits, the key survey measure and support-type wording.

Each file under data/reference/report_*.csv carries a rationale or source column; changing one needs no code change.
"""

from dataclasses import dataclass
from functools import cache

import polars as pl

from pipeline.reference import read_reference


@dataclass(frozen=True)
class Scale:
    axis_title: str
    unit: str
    short_title: str

    @property
    def title(self) -> str:
        return f"{self.axis_title} ({self.unit})"


@dataclass(frozen=True)
class ControlLimit:
    coverage: float
    label: str
    dashed: bool


@dataclass(frozen=True)
class KeyMeasure:
    question_id: str
    statistic: str
    label: str
    unit: str
    higher_is_worse: bool


@cache
def scales() -> dict[str, Scale]:
    return {
        row["scale"]: Scale(row["axis_title"], row["unit"], row["short_title"])
        for row in read_reference("report_scales").to_dicts()
    }


@cache
def funnel_limits() -> tuple[ControlLimit, ...]:
    rows = read_reference("report_funnel_limits").to_dicts()
    return tuple(ControlLimit(float(r["coverage"]), r["label"], r["stroke_dash"] == "dashed") for r in rows)


@cache
def key_measure(chart: str) -> KeyMeasure:
    rows = read_reference("report_key_measures").filter(pl.col("chart") == chart).to_dicts()
    if len(rows) != 1:
        raise ValueError(f"data/reference/report_key_measures.csv needs exactly one row for chart {chart!r}")
    (row,) = rows
    if row["higher_is"] not in {"better", "worse"}:
        raise ValueError(f"report_key_measures.csv, chart {chart!r}, column higher_is: {row['higher_is']!r}")
    return KeyMeasure(row["question_id"], row["statistic"], row["label"], row["unit"], row["higher_is"] == "worse")


@cache
def support_types() -> pl.DataFrame:
    return read_reference("report_support_types").with_columns(pl.col("type_number").cast(pl.Int64))


@cache
def factor_caveats() -> pl.DataFrame:
    return read_reference("report_factor_caveats")
