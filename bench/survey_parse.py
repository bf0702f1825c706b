"""Benchmark: the whole NSS24 organisational workbook to the four staged survey tables (target: under 2 s).

Run with `uv run python bench/survey_parse.py [repeats]`. Prints the raw fastexcel read time for comparison.
"""

import statistics
import sys
import time
from pathlib import Path

import fastexcel

from assets.staged.staff_survey.build import build_survey_year
from pipeline.settings import SNAPSHOT_DIR
from pipeline.sources import snapshot_file


def main(repeats: int = 5) -> None:
    source = snapshot_file(str(SNAPSHOT_DIR), "staff_survey", "organisational_workbook", "2024")
    build_survey_year([source], 2024)  # warm imports and reference-data caches
    raw, parse = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        reader = fastexcel.read_excel(Path(source.path))
        for sheet in reader.sheet_names:
            reader.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        raw.append(time.perf_counter() - started)
        started = time.perf_counter()
        built = build_survey_year([source], 2024)
        parse.append(time.perf_counter() - started)
    rows = {name: frame.height for name, frame in built.tables.items()}
    print(f"raw cells with fastexcel: median {statistics.median(raw):.3f} s")
    print(
        f"workbook -> staged tables: median {statistics.median(parse):.3f} s, max {max(parse):.3f} s ({repeats} runs)"
    )
    print(f"rows: {rows}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
