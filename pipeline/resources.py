"""Dagster resources: where source files come from, the working warehouse, and where outputs go."""

from pathlib import Path
from typing import Literal

import dagster as dg

from pipeline import settings
from pipeline.sources import SourceFile, snapshot_file, snapshot_periods
from pipeline.warehouse import WarehouseResource

SourceMode = Literal["snapshot", "web"]


class SourceResource(dg.ConfigurableResource):
    """One switch for where raw files come from: the bundled real-data snapshot or the publishers."""

    mode: SourceMode = "snapshot"
    snapshot_dir: str = str(settings.SNAPSHOT_DIR)
    raw_dir: str = str(settings.DATA_DIR / "raw")
    # tests map official hosts onto a local server: {"https://www.england.nhs.uk": "http://127.0.0.1:8123"}
    url_rewrites: dict[str, str] = {}
    timeout_seconds: float = 60.0
    max_bytes: int = 300 * 1024 * 1024
    retries: int = 4
    backoff_seconds: float = 2.0  # wait before retry n is backoff_seconds * 2**(n-1)
    # after those in-download retries, an ingest step that still meets a transient error (timeout, 5xx, refused
    # connection) is re-run by Dagster up to step_retries times, waiting step_retry_seconds * 2**(n-1) before retry n
    step_retries: int = 2
    step_retry_seconds: float = 300.0
    show_progress: bool = True

    def available(self, dataset: str, product: str) -> list[str]:
        """Periods (partition keys) this source can provide for a dataset product."""
        if self.mode == "snapshot":
            return snapshot_periods(self.snapshot_dir, dataset, product)
        from pipeline.fetch import web_periods

        return web_periods(self, dataset, product)

    def fetch(self, dataset: str, product: str, period: str) -> SourceFile:
        """A local file for this period; raises SourceUnavailableError when there is none."""
        if self.mode == "snapshot":
            return snapshot_file(self.snapshot_dir, dataset, product, period)
        from pipeline.fetch import web_fetch

        return web_fetch(self, dataset, product, period)


class PublishTargetResource(dg.ConfigurableResource):
    """Where the researcher-facing outputs go: the published DuckDB file, report and Parquet."""

    published_dir: str = str(settings.DATA_DIR / "published")

    @property
    def directory(self) -> Path:
        return settings.local_path(self.published_dir)

    @property
    def database_path(self) -> Path:
        return self.directory / settings.PUBLISHED_DB_NAME


def default_resources(
    source_mode: SourceMode | None = None,
    raw_dir: str | None = None,
    warehouse_path: str | None = None,
    published_dir: str | None = None,
    snapshot_dir: str | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """Every location is a path or a file:// URI; unset ones come from the NHS_READINESS_* environment variables."""
    return {
        "source": SourceResource(
            mode=source_mode or settings.default_source_mode(),  # type: ignore[arg-type]
            snapshot_dir=snapshot_dir or settings.default_snapshot_dir(),
            raw_dir=raw_dir or settings.default_raw_dir(),
            **settings.default_source_options(),
        ),
        "warehouse": WarehouseResource(database=warehouse_path or settings.default_warehouse_path()),
        "publish_target": PublishTargetResource(published_dir=published_dir or settings.default_published_dir()),
    }
