"""Official 2025 People Promise and theme scores from the trust context extract (issue 15).

The extract's `pp*` and `theme_*` columns are the NHS Staff Survey benchmark workbook
(NSS-Benchmark-report-excel-data-for-2021-2025-v2.xlsx), latest year only. Where no official file of the year
is available (the bundled snapshot has none for 2025), they become `people_promise_scores` rows marked
`value_source = benchmark_via_extract`, read through the same catalogue and deny-list as `trust_context`.
"""

from pathlib import Path

import polars as pl

from assets.staged.trust_context.parse import parse_trust_context
from pipeline.reference import read_reference

VALUE_SOURCE = "benchmark_via_extract"
OFFICIAL_FILE = "NSS-Benchmark-report-excel-data-for-2021-2025-v2.xlsx"


def scores_from_extract(path: Path, official_name: str, survey_year: int) -> pl.DataFrame:
    """people_promise_scores rows (before shaping) for `survey_year` from the extract's benchmark columns."""
    columns = read_reference("nss25_extract_columns")
    catalogue = read_reference("trust_context_measures").filter(pl.col("dataset") == "nss25_benchmark")
    long = parse_trust_context(
        path,
        catalogue,
        read_reference("trust_context_datasets"),
        read_reference("trust_context_denied"),
        read_reference("trust_context_derived").clear(),
        official_name,
    )
    measures = read_reference("people_promise_measures").select(
        "measure_id", "measure_name", measure_kind="kind", parent_measure_id="parent_measure_id"
    )
    return (
        long.join(columns, on="source_column")
        .join(measures, on="measure_id")
        .select(
            "org_code",
            survey_year=pl.lit(survey_year),
            measure_id="measure_id",
            measure_name="measure_name",
            score="value",
            base=pl.lit(None, dtype=pl.Int64),
            measure_kind="measure_kind",
            parent_measure_id="parent_measure_id",
            value_source=pl.lit(VALUE_SOURCE),
            release_year=pl.lit(survey_year),
            source_file=pl.lit(f"{OFFICIAL_FILE} via {official_name}"),
        )
        .sort("org_code", "measure_id")
    )
