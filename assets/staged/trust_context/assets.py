"""The long `trust_context` table: each sound column group of the extract as its own dataset with provenance."""

from pathlib import Path

import dagster as dg
import polars as pl

from assets.ingest.raw_files import record_files_used, recorded_files
from assets.ingest.trust_context import DATASET, raw_trust_context
from assets.staged.trust_context.parse import parse_trust_context
from pipeline import dictionary
from pipeline.asset_metadata import table_metadata
from pipeline.checks import gx_check
from pipeline.errors import SourceUnavailableError
from pipeline.reference import read_reference
from pipeline.warehouse import WarehouseResource, replace_table, transaction

DOC = dictionary.table("trust_context")


def build_trust_context(path: str, source_file: str) -> pl.DataFrame:
    """trust_context from one extract file and the catalogue in data/reference/ (pure; no Dagster)."""
    return parse_trust_context(
        Path(path),
        read_reference("trust_context_measures"),
        read_reference("trust_context_datasets"),
        read_reference("trust_context_denied"),
        read_reference("trust_context_derived"),
        source_file,
    )


def empty_trust_context() -> pl.DataFrame:
    return DOC.empty_frame()


@dg.asset(
    group_name="staged",
    deps=[raw_trust_context],
    description=DOC.description,
    metadata=DOC.dagster_metadata(),
    kinds={"polars", "duckdb"},
)
def trust_context(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        try:
            (extract,) = recorded_files(con, DATASET, None)
        except SourceUnavailableError:
            with transaction(con):
                replace_table(con, "trust_context", empty_trust_context())
            return dg.MaterializeResult(
                metadata={**table_metadata(con, "trust_context"), "origin": "none: no extract in the source"}
            )
    frame = build_trust_context(str(extract.path), extract.official_name)
    coverage = frame.group_by("dataset").agg(trusts=pl.col("org_code").n_unique(), rows=pl.len()).sort("dataset")
    with warehouse.get_connection() as con:
        with transaction(con):
            replace_table(con, "trust_context", frame)
            record_files_used(con, DATASET, None, [extract])
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, "trust_context"),
                "origin": extract.origin,
                "coverage": dg.MetadataValue.json(coverage.to_dicts()),
            }
        )


trust_context_expectations = gx_check(trust_context)
