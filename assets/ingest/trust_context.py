"""Ingest the trust context extract (NOF, DMA, ERIC, KH03, discharge, SHMI, FFT, complaints, DSPT, NSS25 scores).

The extract is the offline stand-in for about ten official publications. The pipeline cannot parse their own
layouts yet, so a `--source web` run says so in one line and uses the bundled snapshot copy, whose `origin` in
raw_trust_context and build_info then reads `snapshot (web run: official layouts not parsed yet)`; it never mixes
official and extract values silently.
"""

from dataclasses import replace

from assets.ingest.raw_files import raw_files_asset
from pipeline.resources import SourceResource
from pipeline.sources import SourceFile, snapshot_file, snapshot_periods

DATASET, PRODUCT = "trust_context", "extract"
WEB_FALLBACK_ORIGIN = "snapshot (web run: official layouts not parsed yet)"
NO_EXTRACT_LINE = (
    "trust context: the snapshot manifest lists no trust_context extract; trust_context is empty and the index "
    "uses no trust context indicator"
)
WEB_FALLBACK_LINE = (
    "trust context: the official NOF, DMA, ERIC, KH03, discharge, SHMI, FFT, KO41a and DSPT layouts are not parsed "
    "yet; using the bundled snapshot extract {name} ({period}), recorded as such in build_info"
)


def latest_extract(source: SourceResource, _partition: str | None) -> list[SourceFile]:
    """The newest bundled extract; in a web run the same file, marked as a fallback (one line on the console)."""
    periods = snapshot_periods(source.snapshot_dir, DATASET, PRODUCT)
    if not periods:
        # a trimmed or synthetic snapshot (tests, bench/scale.py) may leave the extract out: say so, build without
        print(NO_EXTRACT_LINE, flush=True)
        return []
    found = snapshot_file(source.snapshot_dir, DATASET, PRODUCT, periods[-1])
    if source.mode == "snapshot":
        return [found]
    print(WEB_FALLBACK_LINE.format(name=found.official_name, period=found.period), flush=True)
    return [replace(found, origin=WEB_FALLBACK_ORIGIN)]


raw_trust_context = raw_files_asset(
    DATASET,
    latest_extract,
    description=(
        "The trust context extract (trust_profiles.csv, one row per trust, March 2026): a processed third-party "
        "join of official NHS England publications; always the bundled snapshot copy (see build_info.origin)."
    ),
)
