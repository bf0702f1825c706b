"""nhs-change-readiness: Dagster definitions, resources, schedules and the command line."""

from pipeline.memory import share_heap_arenas

# first, before Polars, DuckDB or NumPy start a thread: glibc fixes its arena limit then (pipeline/memory.py)
share_heap_arenas()
