"""Reference data files under data/reference/ (crosswalks, catalogues, code lists)."""

import polars as pl

from pipeline.settings import REFERENCE_DIR


def read_reference(name: str) -> pl.DataFrame:
    """Read data/reference/<name>.csv with every column as text (callers cast what they need)."""
    return pl.read_csv(REFERENCE_DIR / f"{name}.csv", infer_schema=False)
