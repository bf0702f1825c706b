"""Great Expectations suites in expectations/ (generated from data/dictionary by `pipeline.expectations`),
validated in an ephemeral context.

GX is imported lazily (about 2 s): only check functions call into this module.
"""

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from pipeline.settings import EXPECTATIONS_DIR

MAX_ROWS_REPORTED = 20


@dataclass(frozen=True)
class ExpectationFailure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    severity: str = "critical"

    def describe(self) -> str:
        where = f" on column '{self.column}'" if self.column else ""
        keys = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in self.rows[:5])
        rows = f" e.g. rows [{keys}]" if keys else ""
        count = f"{self.unexpected_count} unexpected value(s)" if self.unexpected_count is not None else "failed"
        return f"{self.expectation}{where}: {count}{rows}"


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    evaluated: int
    failures: list[ExpectationFailure]

    @property
    def passed(self) -> bool:
        return not [f for f in self.failures if f.severity == "critical"]


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


@cache
def load_suite_json(name: str) -> dict[str, Any]:
    path = EXPECTATIONS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_suite(name: str):
    gx = _gx()
    raw = load_suite_json(name)
    suite = gx.ExpectationSuite(**raw)
    # GX logs and silently drops an invalid expectation instead of raising
    if len(suite.expectations) != len(raw["expectations"]):
        raise ValueError(f"expectations/{name}.json: {len(raw['expectations']) - len(suite.expectations)} invalid")
    return suite


def _clean(value: Any) -> Any:
    """A row key as JSON can hold it (the check records failing rows as JSON metadata): dates as ISO text,
    NumPy scalars as Python numbers."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


@cache
def _context():
    """One ephemeral GX context per process: each new one costs about 0.06 s and a temporary docs folder."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@cache
def _batch_definition(suite_name: str):
    """One pandas data asset per suite in the process's context, made once: adding a data source, an asset and a
    batch definition saves the context's configuration each time (about 20 ms per check)."""
    source = _context().data_sources.add_or_update_pandas(f"frames_{suite_name}")
    return source.add_dataframe_asset(suite_name).add_batch_definition_whole_dataframe("all")


def validate_frame(frame: pd.DataFrame, suite_name: str, key_columns: list[str]) -> SuiteResult:
    suite = load_suite(suite_name)
    batch = _batch_definition(suite_name).get_batch(batch_parameters={"dataframe": frame})
    try:
        return _validate(batch, suite, frame, suite_name, key_columns)
    finally:
        # the data source's engine keeps the last batch and its frame: drop them, so no frame outlives its check
        manager = batch.data.execution_engine.batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()


def _validate(batch, suite, frame: pd.DataFrame, suite_name: str, key_columns: list[str]) -> SuiteResult:
    # every expectation is evaluated; the unexpected rows are only looked up when one fails, in a second pass
    outcome = batch.validate(suite, result_format={"result_format": "BOOLEAN_ONLY"})
    if all(res.success for res in outcome.results):
        return SuiteResult(suite=suite_name, evaluated=len(outcome.results), failures=[])
    result_format: dict[str, Any] = {
        "result_format": "COMPLETE",
        "partial_unexpected_count": MAX_ROWS_REPORTED,
    }
    present_keys = [k for k in key_columns if k in frame.columns]
    if present_keys:
        result_format["unexpected_index_column_names"] = present_keys
    outcome = batch.validate(suite, result_format=result_format)
    severities = {e.get("type"): e.get("severity", "critical") for e in load_suite_json(suite_name)["expectations"]}
    failures = []
    for res in outcome.results:
        if res.success:
            continue
        cfg = res.expectation_config
        detail = res.result or {}
        rows = detail.get("unexpected_index_list") or []
        rows = [
            {k: _clean(v) for k, v in row.items()} if isinstance(row, dict) else {"index": _clean(row)}
            for row in rows[:MAX_ROWS_REPORTED]
        ]
        named = [cfg.kwargs[k] for k in ("column", "column_A", "column_B") if cfg.kwargs.get(k)]
        column = ", ".join(named + list(cfg.kwargs.get("column_list", []) or []))
        if res.exception_info and not rows:
            info = res.exception_info
            message = info.get("exception_message") if "raised_exception" in info else str(info)[:300]
            rows = [{"exception": message}]
        failures.append(
            ExpectationFailure(
                expectation=cfg.type,
                column=column or None,
                unexpected_count=detail.get("unexpected_count"),
                rows=rows,
                severity=getattr(cfg, "severity", None) or severities.get(cfg.type, "critical"),
            )
        )
    return SuiteResult(suite=suite_name, evaluated=len(outcome.results), failures=failures)
