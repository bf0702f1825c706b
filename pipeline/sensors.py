"""Sensors: a clear summary of every failed run, for whoever looks after the unattended refresh."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from pipeline.progress import root_cause
from pipeline.resources import PublishTargetResource

FAILURES_DIR = "run_failures"


def failure_summary(
    run_id: str, job_name: str, partition: str | None, failures: list[tuple[str, str, str]], published: Path
) -> str:
    """Markdown that says what failed, where, and what researchers still see."""
    lines = [
        f"# Run failed: {job_name}" + (f" [{partition}]" if partition else ""),
        "",
        f"- Run: `{run_id}`",
        f"- Recorded: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "",
        "## What failed",
        "",
    ]
    lines += [f"- step `{step}`: **{cls}**: {message}" for step, cls, message in failures] or [
        "- the run failed before any step ran (see the run's logs in the Dagster UI)"
    ]
    if published.exists():
        built = datetime.fromtimestamp(published.stat().st_mtime, UTC).isoformat(timespec="seconds")
        lines += ["", f"The published file `{published}` was not changed (last built {built})."]
    else:
        lines += ["", f"No published file exists yet at `{published}`."]
    return "\n".join(lines) + "\n"


@dg.run_failure_sensor(
    name="run_failure_summary",
    description="Writes a Markdown summary of each failed run to <published_dir>/run_failures/.",
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def run_failure_summary(context: dg.RunFailureSensorContext, publish_target: PublishTargetResource) -> None:
    run = context.dagster_run
    failures = [
        (e.step_key or "?", *root_cause(e.event_specific_data.error)) for e in context.get_step_failure_events()
    ]
    first, last = run.tags.get(ASSET_PARTITION_RANGE_START_TAG), run.tags.get(ASSET_PARTITION_RANGE_END_TAG)
    partition = run.tags.get(PARTITION_NAME_TAG) or (f"{first} to {last}" if first and last else None)
    text = failure_summary(run.run_id, run.job_name, partition, failures, publish_target.database_path)
    folder = publish_target.directory / FAILURES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (folder / f"{stamp}_{run.run_id[:8]}.md").write_text(text, encoding="utf-8")
    (folder / "latest.md").write_text(text, encoding="utf-8")
    context.log.info(f"wrote failure summary for run {run.run_id} to {folder}")
