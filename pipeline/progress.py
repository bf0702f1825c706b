"""One progress line per asset as a run executes, from Dagster's own events."""

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg


def root_cause(error) -> tuple[str, str]:
    """(class name, message) of the innermost user error in a Dagster SerializableErrorInfo chain."""
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "Error", "unknown error"
    cls = error.cls_name or "Error"
    first_line = (error.message or "").strip().split("\n")[0]
    qualified, _, rest = first_line.partition(": ")
    message = rest if rest and qualified.endswith(cls) else first_line
    return cls, message


@dataclass
class ProgressReporter:
    """Collects what happened in the runs and prints a line per asset, failed check and failed step."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    label: str = ""
    started: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    checks_passed: int = 0
    assets_done: int = 0

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def handle(self, event: dg.DagsterEvent) -> None:
        step = event.step_key or ""
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
        elif kind == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            meta = mat.metadata
            rows = meta.get("dagster/row_count")
            detail = f"{rows.value:>10,} rows" if rows is not None else " " * 15
            partition = f" [{mat.partition}]" if mat.partition else ""
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            name = mat.asset_key.to_user_string() + partition
            self.assets_done += 1
            self.line(f"  ✓ {self.label:<22} {name:<44} {detail}  {took:5.1f} s")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self.checks_passed += 1
            else:
                text = f"{evaluation.asset_check_key.name}: {evaluation.description or 'failed'}"
                self.failed_checks.append(text)
                self.line(f"  ✗ check failed  {text}")
        elif kind == "STEP_UP_FOR_RETRY":
            data = event.event_specific_data
            _, message = root_cause(data.error)
            wait = f"in {data.seconds_to_wait:g} s" if data.seconds_to_wait else "now"
            self.line(f"  ↻ {self.label:<22} {step}: {message}; Dagster retries the step {wait} (Ctrl-C stops)")
        elif kind == "STEP_FAILURE":
            cls, message = root_cause(event.event_specific_data.error)
            self.failures.append(f"{step}: {cls}: {message}")
            self.line(f"  ✗ {self.label:<22} {step}: {cls}: {message}")


class _Handler(logging.Handler):
    def __init__(self, reporter: ProgressReporter) -> None:
        super().__init__(level=logging.DEBUG)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is not None:
            self.reporter.handle(event)


def progress_logger_def(reporter: ProgressReporter) -> dg.LoggerDefinition:
    @dg.logger(description="Prints one line per materialised asset and per failure.")
    def _progress(_init_context) -> logging.Logger:
        log = logging.Logger("nhs_readiness_progress", level=logging.DEBUG)
        log.addHandler(_Handler(reporter))
        return log

    return _progress
