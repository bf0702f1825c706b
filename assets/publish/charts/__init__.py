"""Altair charts of the published tables: pure functions of Polars frames, one module per chart family."""
