"""Ingest the ODS `etr` trusts reference file (refreshed on every run)."""

from assets.ingest.raw_files import raw_files_asset
from pipeline.errors import SourceUnavailableError
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile


def _latest_etr(source: SourceResource, _partition: str | None) -> list[SourceFile]:
    periods = source.available("ods", "etr")
    if not periods:
        raise SourceUnavailableError("no ODS etr file is available from the source")
    return [source.fetch("ods", "etr", periods[-1])]


raw_ods = raw_files_asset(
    "ods",
    _latest_etr,
    description="The newest ODS `etr` NHS trusts file (open and closed trusts; no header row).",
)
