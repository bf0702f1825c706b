"""The declarative change-readiness framework: data/framework/*.csv, loaded, typed and validated.

Every analytical choice (which question measures which factor, polarity, weights, the support-type rule,
normalisation, aggregation, coverage minimum, Monte Carlo settings) lives in those files with a rationale;
the code only knows the three input tables and how to check the files against each other.
Problems raise InputDataError naming the file, the row as a spreadsheet shows it (header = row 1) and the field.
"""

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.errors import InputDataError
from pipeline.settings import FRAMEWORK_DIR

SOURCES = ("staff_survey_items", "people_promise_scores", "performance_annual")
SURVEY_SOURCE, PEOPLE_PROMISE_SOURCE, PERFORMANCE_SOURCE = SOURCES
POLARITY_SIGN = {"higher_better": 1, "higher_worse": -1}
NORMALISATIONS = ("zscore", "percentile", "minmax")
AGGREGATIONS = ("arithmetic", "geometric")
SURVEY_VALUE_TYPES = ("score_0_10", "pct_favourable", "pct_unfavourable")
FACTOR_IDS = range(1, 8)
QUESTION_ID_PATTERN = r"^q[0-9]+[a-z]?(_[0-9]+)?$"
INDICATOR_ID_PATTERN = r"^[a-z][a-z0-9_]*$"

INDICATOR_COLUMNS = (
    "indicator_id",
    "label",
    "source",
    "question_id",
    "measure",
    "factor_id",
    "barrier",
    "polarity",
    "weight",
    "response_scale",
    "rationale",
)


@dataclass(frozen=True)
class Settings:
    """Method settings from method_settings.csv (each with its rationale there)."""

    normalisation: str
    normalisation_alternatives: tuple[str, ...]
    aggregation: str
    aggregation_alternatives: tuple[str, ...]
    geometric_floor: float
    min_peers: int
    min_index_coverage: float
    mc_draws: int
    seed: int
    dirichlet_concentration: float
    interval_level: float
    design_effect: float
    value_preference: tuple[str, ...]
    financial_year_offset: int
    redundancy_threshold: float
    validity_interval_level: float
    bootstrap_draws: int

    def replace(self, **changes: object) -> "Settings":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Framework:
    """The framework files, typed. `indicators` has one row per indicator with its factor, barrier and weight."""

    indicators: pl.DataFrame
    factors: pl.DataFrame
    barriers: pl.DataFrame
    support_types: pl.DataFrame
    response_scales: pl.DataFrame
    measures: pl.DataFrame
    benchmarking_groups: pl.DataFrame
    outcomes: pl.DataFrame
    published_evidence: pl.DataFrame
    settings: Settings

    def with_settings(self, **changes: object) -> "Framework":
        return dataclasses.replace(self, settings=self.settings.replace(**changes))

    def with_indicators(self, indicators: pl.DataFrame) -> "Framework":
        return dataclasses.replace(self, indicators=indicators)

    def compared_groups(self) -> list[str]:
        return self.benchmarking_groups.filter(pl.col("compared"))["benchmarking_group"].to_list()


def _fail(problem: str, file: str, index: int | None = None, column: str | None = None) -> InputDataError:
    """An error at data row `index` (0-based) of a framework CSV, reported as the spreadsheet row (header = 1)."""
    return InputDataError(problem, file=file, row=None if index is None else index + 2, column=column)


def _read(directory: Path, name: str, required: tuple[str, ...]) -> pl.DataFrame:
    path = directory / name
    if not path.exists():
        raise InputDataError("the framework file is missing", file=path)
    frame = pl.read_csv(path, infer_schema=False)
    for column in required:
        if column not in frame.columns:
            raise InputDataError("required column is missing from the header", file=path, row=1, column=column)
    return frame.with_columns(pl.col(c).str.strip_chars() for c in frame.columns)


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _number(value: str | None, file: str, index: int, column: str) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise _fail(f"{value!r} is not a number", file, index, column) from None
    if not math.isfinite(number):
        raise _fail(f"{value!r} is not a finite number", file, index, column)
    return number


def _unique(frame: pl.DataFrame, column: str, file: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(frame[column].to_list()):
        if _blank(value):
            raise _fail(f"{column} is missing", file, index, column)
        if value in seen:
            raise _fail(f"duplicate {column} {value!r}", file, index, column)
        seen.add(value)


def parse_factors(raw: pl.DataFrame, file: str = "factors.csv") -> pl.DataFrame:
    _unique(raw, "factor_id", file)
    ids, weights = [], []
    for index, row in enumerate(raw.iter_rows(named=True)):
        factor = _number(row["factor_id"], file, index, "factor_id")
        if factor not in FACTOR_IDS:
            raise _fail(f"factor {row['factor_id']} is outside 1-7", file, index, "factor_id")
        if _blank(row["factor_name"]):
            raise _fail("factor_name is missing", file, index, "factor_name")
        weight = _number(row["index_weight"], file, index, "index_weight")
        if weight <= 0:
            raise _fail(f"index_weight must be positive, got {row['index_weight']}", file, index, "index_weight")
        ids.append(int(factor))
        weights.append(weight)
    missing = sorted(set(FACTOR_IDS) - set(ids))
    if missing:
        raise _fail(f"factors {missing} are missing: the framework has seven success factors", file)
    return raw.with_columns(factor_id=pl.Series(ids, dtype=pl.Int64), index_weight=pl.Series(weights)).sort("factor_id")


def parse_barriers(raw: pl.DataFrame, support_types: pl.DataFrame, file: str = "barriers.csv") -> pl.DataFrame:
    _unique(raw, "barrier", file)
    known = set(support_types["support_type"].to_list())
    for index, row in enumerate(raw.iter_rows(named=True)):
        if _blank(row["barrier_name"]):
            raise _fail("barrier_name is missing", file, index, "barrier_name")
        if row["support_type"] not in known:
            raise _fail(
                f"support type {row['support_type']!r} is not in support_types.csv", file, index, "support_type"
            )
    return raw


def parse_settings(raw: pl.DataFrame, file: str = "method_settings.csv") -> Settings:
    _unique(raw, "setting", file)
    rows = {row["setting"]: (index, row) for index, row in enumerate(raw.iter_rows(named=True))}
    for setting, (index, row) in rows.items():
        if _blank(row["rationale"]):
            raise _fail(f"setting {setting} has no rationale", file, index, "rationale")
    fields = {f.name for f in dataclasses.fields(Settings)}
    expected = {f for f in fields if not f.endswith("_alternatives")}
    unknown, missing = sorted(rows.keys() - expected), sorted(expected - rows.keys())
    if unknown:
        raise _fail(f"unknown setting {unknown[0]!r}", file, rows[unknown[0]][0], "setting")
    if missing:
        raise _fail(f"setting {missing[0]!r} is missing", file)

    def text(name: str) -> str:
        return rows[name][1]["value"] or ""

    def number(name: str, low: float, high: float, *, integer: bool = False) -> float:
        index = rows[name][0]
        value = _number(text(name), file, index, "value")
        if not low <= value <= high or (integer and value != int(value)):
            kind = "an integer" if integer else "a number"
            raise _fail(f"{name} must be {kind} between {low} and {high}, got {text(name)}", file, index, "value")
        return value

    def choice(name: str, allowed: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
        index, row = rows[name]
        if row["value"] not in allowed:
            raise _fail(f"{name} {row['value']!r} is not one of {list(allowed)}", file, index, "value")
        alternatives = tuple(a for a in (row["alternatives"] or "").split("|") if a)
        for alternative in alternatives:
            if alternative not in allowed or alternative == row["value"]:
                raise _fail(f"{name} alternative {alternative!r} is not another of {list(allowed)}", file, index)
        return row["value"], alternatives

    normalisation, normalisation_alternatives = choice("normalisation", NORMALISATIONS)
    aggregation, aggregation_alternatives = choice("aggregation", AGGREGATIONS)
    preference = tuple(text("value_preference").split("|"))
    if not preference or set(preference) - set(SURVEY_VALUE_TYPES) or len(set(preference)) != len(preference):
        index = rows["value_preference"][0]
        raise _fail(f"value_preference must order {list(SURVEY_VALUE_TYPES)}", file, index, "value")
    return Settings(
        normalisation=normalisation,
        normalisation_alternatives=normalisation_alternatives,
        aggregation=aggregation,
        aggregation_alternatives=aggregation_alternatives,
        geometric_floor=number("geometric_floor", 1e-9, 0.5),
        min_peers=int(number("min_peers", 2, 1000, integer=True)),
        min_index_coverage=number("min_index_coverage", 0, 1),
        mc_draws=int(number("mc_draws", 10, 1_000_000, integer=True)),
        seed=int(number("seed", 0, 2**63 - 1, integer=True)),
        dirichlet_concentration=number("dirichlet_concentration", 1e-3, 1e9),
        interval_level=number("interval_level", 0.5, 0.999),
        design_effect=number("design_effect", 1, 100),
        value_preference=preference,
        financial_year_offset=int(number("financial_year_offset", -5, 5, integer=True)),
        redundancy_threshold=number("redundancy_threshold", 0, 1),
        validity_interval_level=number("validity_interval_level", 0.5, 0.999),
        bootstrap_draws=int(number("bootstrap_draws", 100, 1_000_000, integer=True)),
    )


def parse_indicators(
    raw: pl.DataFrame,
    factors: pl.DataFrame,
    barriers: pl.DataFrame,
    response_scales: pl.DataFrame,
    measures: pl.DataFrame,
    file: str = "indicators.csv",
) -> pl.DataFrame:
    """Type and check the indicator rows; the checks that need data (catalogue, years) are in validate_framework."""
    for column in INDICATOR_COLUMNS:
        if column not in raw.columns:
            raise InputDataError("required column is missing from the header", file=file, row=1, column=column)
    if raw.is_empty():
        raise _fail("the framework has no indicators", file)
    _unique(raw, "indicator_id", file)
    known_barriers = set(barriers["barrier"].to_list())
    known_factors = set(factors["factor_id"].to_list())
    scales = {row["response_scale"]: row["perturbation"] for row in response_scales.iter_rows(named=True)}
    units = {(row["source"], row["measure"]): row["unit"] for row in measures.iter_rows(named=True)}
    factor_ids, weights = [], []
    for index, row in enumerate(raw.iter_rows(named=True)):
        if not re.fullmatch(INDICATOR_ID_PATTERN, row["indicator_id"]):
            raise _fail(
                f"indicator_id {row['indicator_id']!r} must be lower-case snake_case", file, index, "indicator_id"
            )
        if _blank(row["label"]):
            raise _fail("label is missing", file, index, "label")
        source = row["source"]
        if source not in SOURCES:
            raise _fail(f"unknown source {source!r}; expected one of {list(SOURCES)}", file, index, "source")
        if source == SURVEY_SOURCE:
            question = row["question_id"] or ""
            if not re.fullmatch(QUESTION_ID_PATTERN, question):
                raise _fail(
                    f"question_id {question!r} is not a lower-case 2024 question number such as q12b",
                    file,
                    index,
                    "question_id",
                )
            if not _blank(row["measure"]):
                raise _fail("a staff survey item takes a question_id, not a measure", file, index, "measure")
        else:
            if not _blank(row["question_id"]):
                raise _fail(f"{source} takes a measure, not a question_id", file, index, "question_id")
            unit = units.get((source, row["measure"]))
            if unit is None:
                raise _fail(f"unknown measure {row['measure']!r} for source {source}", file, index, "measure")
            if unit == "count":
                raise _fail(
                    f"measure {row['measure']} is a count, which grows with trust size; use a rate",
                    file,
                    index,
                    "measure",
                )
        factor = _number(row["factor_id"], file, index, "factor_id") if not _blank(row["factor_id"]) else None
        if factor is None:
            raise _fail("factor_id is missing", file, index, "factor_id")
        if factor not in FACTOR_IDS or factor not in known_factors:
            raise _fail(f"factor {row['factor_id']} is outside 1-7", file, index, "factor_id")
        if not _blank(row["barrier"]) and row["barrier"] not in known_barriers:
            raise _fail(
                f"unknown barrier {row['barrier']!r}; expected one of {sorted(known_barriers)}", file, index, "barrier"
            )
        if _blank(row["polarity"]):
            raise _fail("polarity is missing", file, index, "polarity")
        if row["polarity"] not in POLARITY_SIGN:
            raise _fail(f"polarity {row['polarity']!r} is not one of {list(POLARITY_SIGN)}", file, index, "polarity")
        weight = _number(row["weight"], file, index, "weight")
        if weight <= 0:
            raise _fail(f"weight must be positive, got {row['weight']}", file, index, "weight")
        scale = row["response_scale"]
        if scale not in scales:
            raise _fail(f"unknown response_scale {scale!r}", file, index, "response_scale")
        if (scales[scale] == "none") != (source == PERFORMANCE_SOURCE):
            raise _fail(
                f"response_scale {scale} does not fit source {source}: sampling error applies to survey sources only",
                file,
                index,
                "response_scale",
            )
        if _blank(row["rationale"]):
            raise _fail("rationale is missing", file, index, "rationale")
        factor_ids.append(int(factor))
        weights.append(weight)
    return raw.select(INDICATOR_COLUMNS).with_columns(
        pl.col("question_id", "measure", "barrier").replace("", None),
        factor_id=pl.Series(factor_ids, dtype=pl.Int64),
        weight=pl.Series(weights, dtype=pl.Float64),
        orientation=pl.col("polarity").replace_strict(POLARITY_SIGN, return_dtype=pl.Int64),
        key=pl.coalesce("question_id", "measure"),
    )


def load_framework(directory: Path = FRAMEWORK_DIR) -> Framework:
    """Read and check every framework file; raises InputDataError at the first problem."""
    support_types = _read(directory, "support_types.csv", ("support_type", "support_name", "rationale"))
    _unique(support_types, "support_type", "support_types.csv")
    factors = parse_factors(
        _read(directory, "factors.csv", ("factor_id", "factor_name", "short_name", "index_weight", "weight_rationale"))
    )
    barriers = parse_barriers(
        _read(directory, "barriers.csv", ("barrier", "barrier_name", "definition", "support_type")), support_types
    )
    response_scales = _read(directory, "response_scales.csv", ("response_scale", "perturbation", "variance_ratio"))
    _unique(response_scales, "response_scale", "response_scales.csv")
    for index, row in enumerate(response_scales.iter_rows(named=True)):
        if row["perturbation"] not in ("survey", "none"):
            raise _fail("perturbation must be 'survey' or 'none'", "response_scales.csv", index, "perturbation")
        if _number(row["variance_ratio"], "response_scales.csv", index, "variance_ratio") < 0:
            raise _fail("variance_ratio must not be negative", "response_scales.csv", index, "variance_ratio")
    measures = _read(directory, "measures.csv", ("source", "measure", "unit", "description"))
    groups = _read(directory, "benchmarking_groups.csv", ("benchmarking_group", "compared", "rationale"))
    _unique(groups, "benchmarking_group", "benchmarking_groups.csv")
    for index, value in enumerate(groups["compared"].to_list()):
        if value not in ("true", "false"):
            raise _fail("compared must be true or false", "benchmarking_groups.csv", index, "compared")
    outcomes = _read(directory, "outcomes.csv", ("measure", "expected_sign", "rationale"))
    for index, row in enumerate(outcomes.iter_rows(named=True)):
        if row["expected_sign"] not in ("1", "-1"):
            raise _fail("expected_sign must be 1 or -1", "outcomes.csv", index, "expected_sign")
        if ("performance_annual", row["measure"]) not in set(measures.select("source", "measure").iter_rows()):
            raise _fail(f"unknown measure {row['measure']!r}", "outcomes.csv", index, "measure")
    evidence = _read(directory, "published_evidence.csv", ("check", "statistic", "published_estimate", "note"))
    indicators = parse_indicators(
        _read(directory, "indicators.csv", INDICATOR_COLUMNS), factors, barriers, response_scales, measures
    )
    return Framework(
        indicators=indicators,
        factors=factors,
        barriers=barriers,
        support_types=support_types,
        response_scales=response_scales.with_columns(pl.col("variance_ratio").cast(pl.Float64)),
        measures=measures,
        benchmarking_groups=groups.with_columns(compared=pl.col("compared") == "true"),
        outcomes=outcomes.with_columns(pl.col("expected_sign").cast(pl.Int64)),
        published_evidence=evidence.with_columns(
            pl.col("published_estimate", "ci_lo", "ci_hi").replace("", None).cast(pl.Float64)
        ),
        settings=parse_settings(
            _read(directory, "method_settings.csv", ("setting", "value", "alternatives", "rationale"))
        ),
    )


def available_keys(
    staff_survey_items: pl.DataFrame, people_promise_scores: pl.DataFrame, performance_annual: pl.DataFrame
) -> pl.DataFrame:
    """Which question or measure has at least one value in which period: (source, key, period)."""
    survey_value = pl.any_horizontal(pl.col(c).is_not_null() for c in SURVEY_VALUE_TYPES)
    return pl.concat(
        [
            staff_survey_items.filter(survey_value).select(
                source=pl.lit(SURVEY_SOURCE), key=pl.col("question_id"), period=pl.col("survey_year").cast(pl.String)
            ),
            people_promise_scores.filter(pl.col("score").is_not_null()).select(
                source=pl.lit(PEOPLE_PROMISE_SOURCE),
                key=pl.col("measure_id"),
                period=pl.col("survey_year").cast(pl.String),
            ),
            performance_annual.filter(pl.col("value").is_not_null()).select(
                source=pl.lit(PERFORMANCE_SOURCE), key=pl.col("measure"), period=pl.col("financial_year")
            ),
        ]
    ).unique()


def validate_framework(framework: Framework, catalogue: pl.DataFrame, available: pl.DataFrame | None = None) -> None:
    """Reject an indicator whose question is not in the question catalogue, or (given `available` from
    available_keys) one that no year of data provides. Structural problems were caught by load_framework."""
    file = "indicators.csv"
    if "question_id" not in catalogue.columns:
        raise InputDataError("the question catalogue has no question_id column", file="question_catalogue.csv", row=1)
    questions = set(catalogue["question_id"].str.to_lowercase().to_list())
    provided = set() if available is None else set(available.select("source", "key").iter_rows())
    for index, row in enumerate(framework.indicators.iter_rows(named=True)):
        if row["source"] == SURVEY_SOURCE and row["question_id"] not in questions:
            raise _fail(
                f"question id {row['question_id']} is not in the question catalogue", file, index, "question_id"
            )
        if available is not None and (row["source"], row["key"]) not in provided:
            column = "question_id" if row["source"] == SURVEY_SOURCE else "measure"
            raise _fail(
                f"no year of data provides {row['key']} in {row['source']} (indicator {row['indicator_id']})",
                file,
                index,
                column,
            )


def indicator_catalogue(
    framework: Framework, catalogue: pl.DataFrame, available: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The published indicator_catalogue: the framework rows with factor and question text and the years with data."""
    text = (
        catalogue.select(question_id=pl.col("question_id").str.to_lowercase(), question_text=pl.col("question_text"))
        if "question_text" in catalogue.columns
        else pl.DataFrame(schema={"question_id": pl.String, "question_text": pl.String})
    )
    years = (
        available.group_by("source", "key").agg(periods_available=pl.col("period").sort().str.join(", "))
        if available is not None
        else pl.DataFrame(schema={"source": pl.String, "key": pl.String, "periods_available": pl.String})
    )
    return (
        framework.indicators.join(framework.factors.select("factor_id", "factor_name"), on="factor_id", how="left")
        .join(text.unique("question_id"), on="question_id", how="left")
        .join(years, on=["source", "key"], how="left")
        .select(
            "indicator_id",
            "source",
            "question_id",
            "measure",
            "factor_id",
            "barrier",
            "polarity",
            "weight",
            "rationale",
            "label",
            "factor_name",
            "response_scale",
            "question_text",
            "periods_available",
        )
        .sort("factor_id", "indicator_id")
    )
