"""The declarative change-readiness framework: data/framework/*.csv, loaded, typed and validated.

Every analytical choice (which question measures which factor, polarity, weights, the support-type rule,
normalisation, aggregation, coverage minimum, Monte Carlo settings) lives in those files with a rationale.
Facts about the sources are read from data/reference/, never repeated in the framework: the question catalogue
(question ids, answer scales), response_scale_variance.csv (sampling error per answer scale),
performance_measures.csv and people_promise_measures.csv (the measures and their units).
Problems raise InputDataError naming the file, the row as a spreadsheet shows it (header = row 1) and the field.
"""

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.errors import InputDataError
from pipeline.settings import FRAMEWORK_DIR, REFERENCE_DIR

SOURCES = ("staff_survey_items", "people_promise_scores", "performance_annual", "trust_context")
SURVEY_SOURCE, PEOPLE_PROMISE_SOURCE, PERFORMANCE_SOURCE, CONTEXT_SOURCE = SOURCES
# administrative sources count every patient, bed or pound: no sampling error
ADMINISTRATIVE_SOURCES = (PERFORMANCE_SOURCE, CONTEXT_SOURCE)
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
    "rationale",
)
NON_COMPARABLE_CHOICES = ("exclude", "include")
# official People Promise and theme scores are not answers on a scale; their sampling error has its own row
PEOPLE_PROMISE_SCALE = "people_promise_score"
ADMINISTRATIVE_SCALE = "administrative"


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
    min_months_covered: int
    non_comparable_items: str
    redundancy_threshold: float
    validity_interval_level: float
    bootstrap_draws: int
    weakest_min_probability: float
    support_min_probability: float
    min_common_indicators: int
    barrier_factor_max_correlation: float
    design_effect_alternatives: tuple[str, ...]
    min_factor_coverage: float
    min_factor_coverage_alternatives: tuple[str, ...]
    min_barrier_coverage: float
    min_barrier_coverage_alternatives: tuple[str, ...]
    sobol_base_runs: int
    min_performance_denominator: float
    min_performance_denominator_alternatives: tuple[str, ...]

    def replace(self, **changes: object) -> "Settings":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Framework:
    """The framework files, typed, with the reference data they are checked against.

    `indicators` has one row per indicator with its factor, barrier, weight and (from the reference data) its
    answer scale and sampling variance ratio; `questions` is the question catalogue, `measures` the performance and
    People Promise measures with their units, `scale_variance` the variance ratio of each answer scale."""

    indicators: pl.DataFrame
    factors: pl.DataFrame
    barriers: pl.DataFrame
    support_types: pl.DataFrame
    questions: pl.DataFrame
    measures: pl.DataFrame
    scale_variance: pl.DataFrame
    outcomes: pl.DataFrame
    published_evidence: pl.DataFrame
    settings: Settings
    factor_weight_scenarios: pl.DataFrame  # (scenario, factor_id, index_weight): factor weights to try instead

    def with_settings(self, **changes: object) -> "Framework":
        return dataclasses.replace(self, settings=self.settings.replace(**changes))

    def with_indicators(self, indicators: pl.DataFrame) -> "Framework":
        return dataclasses.replace(self, indicators=indicators)

    @property
    def factor_weight_scenario_names(self) -> list[str]:
        return self.factor_weight_scenarios["scenario"].unique(maintain_order=True).to_list()

    def with_factor_weights(self, scenario: str) -> "Framework":
        """The framework with a scenario's factor weights; factors the scenario does not list keep theirs."""
        changed = self.factor_weight_scenarios.filter(pl.col("scenario") == scenario)
        if changed.is_empty():
            raise KeyError(f"no factor weight scenario {scenario!r}")
        factors = self.factors.join(changed.select("factor_id", new="index_weight"), on="factor_id", how="left")
        weights = pl.coalesce("new", "index_weight").alias("index_weight")
        return dataclasses.replace(self, factors=factors.with_columns(weights).drop("new"))


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


def _positive(value: str | None, file: str, index: int, column: str) -> float:
    number = _number(value, file, index, column)
    if number <= 0:
        raise _fail(f"{column} must be positive, got {value}", file, index, column)
    return number


def _factor_id(value: str | None, file: str, index: int) -> int:
    factor = _number(value, file, index, "factor_id")
    if factor not in FACTOR_IDS:
        raise _fail(f"factor {value} is outside 1-7", file, index, "factor_id")
    return int(factor)


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
        factor = _factor_id(row["factor_id"], file, index)
        if _blank(row["factor_name"]):
            raise _fail("factor_name is missing", file, index, "factor_name")
        weight = _positive(row["index_weight"], file, index, "index_weight")
        ids.append(factor)
        weights.append(weight)
    missing = sorted(set(FACTOR_IDS) - set(ids))
    if missing:
        raise _fail(f"factors {missing} are missing: the framework has seven success factors", file)
    return raw.with_columns(factor_id=pl.Series(ids, dtype=pl.Int64), index_weight=pl.Series(weights)).sort("factor_id")


def parse_factor_weight_scenarios(raw: pl.DataFrame, file: str = "factor_weight_scenarios.csv") -> pl.DataFrame:
    seen: set[tuple[str, int]] = set()
    rows = []
    for index, row in enumerate(raw.iter_rows(named=True)):
        if _blank(row["scenario"]) or not re.match(INDICATOR_ID_PATTERN, row["scenario"]):
            raise _fail("scenario must be a lower-case name (letters, digits, _)", file, index, "scenario")
        factor = _factor_id(row["factor_id"], file, index)
        weight = _positive(row["index_weight"], file, index, "index_weight")
        if _blank(row["rationale"]):
            raise _fail("rationale is missing", file, index, "rationale")
        if (row["scenario"], factor) in seen:
            raise _fail(f"factor {factor} is listed twice in scenario {row['scenario']!r}", file, index)
        seen.add((row["scenario"], factor))
        rows.append((row["scenario"], factor, weight))
    return pl.DataFrame(
        rows, schema={"scenario": pl.String, "factor_id": pl.Int64, "index_weight": pl.Float64}, orient="row"
    )


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
    non_comparable_items, _ = choice("non_comparable_items", NON_COMPARABLE_CHOICES)
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
        min_months_covered=int(number("min_months_covered", 1, 12, integer=True)),
        non_comparable_items=non_comparable_items,
        redundancy_threshold=number("redundancy_threshold", 0, 1),
        validity_interval_level=number("validity_interval_level", 0.5, 0.999),
        bootstrap_draws=int(number("bootstrap_draws", 100, 1_000_000, integer=True)),
        weakest_min_probability=number("weakest_min_probability", 0.5, 1),
        support_min_probability=number("support_min_probability", 0.34, 1),
        min_common_indicators=int(number("min_common_indicators", 1, 100, integer=True)),
        barrier_factor_max_correlation=number("barrier_factor_max_correlation", 0, 1),
        design_effect_alternatives=_alternative_numbers(rows["design_effect"], file, 1, 100),
        min_factor_coverage=number("min_factor_coverage", 0, 1),
        min_factor_coverage_alternatives=_alternative_numbers(rows["min_factor_coverage"], file, 0, 1),
        min_barrier_coverage=number("min_barrier_coverage", 0, 1),
        min_barrier_coverage_alternatives=_alternative_numbers(rows["min_barrier_coverage"], file, 0, 1),
        sobol_base_runs=int(number("sobol_base_runs", 16, 100_000, integer=True)),
        min_performance_denominator=number("min_performance_denominator", 0, 1e9),
        min_performance_denominator_alternatives=_alternative_numbers(
            rows["min_performance_denominator"], file, 0, 1e9
        ),
    )


def _alternative_numbers(entry: tuple[int, dict], file: str, low: float, high: float) -> tuple[str, ...]:
    """A numeric setting's alternatives (`|`-separated), checked to lie in [low, high]; kept as text."""
    index, row = entry
    alternatives = tuple(a for a in (row["alternatives"] or "").split("|") if a)
    for alternative in alternatives:
        if not low <= _number(alternative, file, index, "alternatives") <= high:
            raise _fail(f"alternative {alternative} is outside {low}-{high}", file, index, "alternatives")
    return alternatives


def parse_indicators(
    raw: pl.DataFrame,
    factors: pl.DataFrame,
    barriers: pl.DataFrame,
    questions: pl.DataFrame,
    measures: pl.DataFrame,
    scale_variance: pl.DataFrame,
    file: str = "indicators.csv",
    *,
    barrier_only: bool = False,
) -> pl.DataFrame:
    """Type and check the indicator rows against the factors, barriers and the reference data; add each
    indicator's answer scale and sampling variance ratio. The check that needs the data (an indicator no year
    provides) is validate_framework."""
    for column in INDICATOR_COLUMNS:
        if column not in raw.columns:
            raise InputDataError("required column is missing from the header", file=file, row=1, column=column)
    if raw.is_empty():
        raise _fail("the framework has no indicators", file)
    _unique(raw, "indicator_id", file)
    known_barriers = set(barriers["barrier"].to_list())
    known_factors = set(factors["factor_id"].to_list())
    scale_of = {row["question_id"]: row for row in questions.iter_rows(named=True)}
    ratio_of = dict(scale_variance.select("scale_id", "variance_ratio").iter_rows())
    units = {(row["source"], row["measure"]): row["unit"] for row in measures.iter_rows(named=True)}
    factor_ids, weights, scales, ratios = [], [], [], []
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
            if question not in scale_of:
                raise _fail(
                    f"question id {question} is not in the question catalogue (data/reference/question_catalogue.csv)",
                    file,
                    index,
                    "question_id",
                )
            if not scale_of[question]["scored"]:
                raise _fail(
                    f"question {question} is not scored (question_catalogue.csv): it has no favourable answer",
                    file,
                    index,
                    "question_id",
                )
            scale = scale_of[question]["response_scale"]
            if scale not in ratio_of:
                raise _fail(
                    f"answer scale {scale} of {question} has no variance_ratio in "
                    "data/reference/response_scale_variance.csv",
                    file,
                    index,
                    "question_id",
                )
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
            scale = ADMINISTRATIVE_SCALE if source in ADMINISTRATIVE_SOURCES else PEOPLE_PROMISE_SCALE
        factor = _number(row["factor_id"], file, index, "factor_id") if not _blank(row["factor_id"]) else None
        if barrier_only:
            # a barrier's own evidence: it scores the barrier and no factor
            if factor is not None:
                raise _fail("a barrier indicator takes no factor_id (use indicators.csv)", file, index, "factor_id")
            if _blank(row["barrier"]):
                raise _fail("barrier is missing", file, index, "barrier")
        elif factor is None:
            raise _fail("factor_id is missing", file, index, "factor_id")
        elif factor not in FACTOR_IDS or factor not in known_factors:
            raise _fail(f"factor {row['factor_id']} is outside 1-7", file, index, "factor_id")
        if not _blank(row["barrier"]) and row["barrier"] not in known_barriers:
            raise _fail(
                f"unknown barrier {row['barrier']!r}; expected one of {sorted(known_barriers)}", file, index, "barrier"
            )
        if _blank(row["polarity"]):
            raise _fail("polarity is missing", file, index, "polarity")
        if row["polarity"] not in POLARITY_SIGN:
            raise _fail(f"polarity {row['polarity']!r} is not one of {list(POLARITY_SIGN)}", file, index, "polarity")
        weight = _positive(row["weight"], file, index, "weight")
        if _blank(row["rationale"]):
            raise _fail("rationale is missing", file, index, "rationale")
        factor_ids.append(None if factor is None else int(factor))
        weights.append(weight)
        scales.append(scale)
        # administrative measures count every patient or staff member: a census has no sampling error
        ratios.append(0.0 if source in ADMINISTRATIVE_SOURCES else ratio_of[scale])
    return raw.select(INDICATOR_COLUMNS).with_columns(
        pl.col("question_id", "measure", "barrier").replace("", None),
        factor_id=pl.Series(factor_ids, dtype=pl.Int64),
        weight=pl.Series(weights, dtype=pl.Float64),
        orientation=pl.col("polarity").replace_strict(POLARITY_SIGN, return_dtype=pl.Int64),
        key=pl.coalesce(pl.col("question_id").replace("", None), pl.col("measure").replace("", None)),
        response_scale=pl.Series(scales, dtype=pl.String),
        variance_ratio=pl.Series(ratios, dtype=pl.Float64),
        declared_in=pl.lit(file),
        file_row=pl.int_range(pl.len(), dtype=pl.Int64),
    )


def reference_tables(reference_dir: Path = REFERENCE_DIR) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(questions, measures, scale_variance) from data/reference/, the source facts the framework is checked against."""
    questions = _read(reference_dir, "question_catalogue.csv", ("question_id", "question_text", "response_scale"))
    questions = questions.select(
        pl.col("question_id").str.to_lowercase(), "question_text", "response_scale", scored=pl.col("scored") == "true"
    )
    performance = _read(reference_dir, "performance_measures.csv", ("measure", "label", "unit", "dataset"))
    people_promise = _read(reference_dir, "people_promise_measures.csv", ("measure_id", "measure_name"))
    context = pl.concat(
        [
            _read(reference_dir, "trust_context_measures.csv", ("measure", "dataset", "unit", "definition")),
            _read(reference_dir, "trust_context_derived.csv", ("measure", "unit", "definition")).with_columns(
                dataset=pl.lit("derived")
            ),
        ],
        how="diagonal",
    )
    measures = pl.concat(
        [
            context.select(
                source=pl.lit(CONTEXT_SOURCE), measure="measure", label="definition", unit="unit", dataset="dataset"
            ),
            performance.select(
                source=pl.lit(PERFORMANCE_SOURCE), measure="measure", label="label", unit="unit", dataset="dataset"
            ),
            people_promise.select(
                source=pl.lit(PEOPLE_PROMISE_SOURCE),
                measure="measure_id",
                label="measure_name",
                unit=pl.lit("score_0_10"),
                dataset=pl.lit(PEOPLE_PROMISE_SOURCE),
            ),
        ]
    )
    file = "response_scale_variance.csv"
    variance = _read(reference_dir, file, ("scale_id", "variance_ratio", "source"))
    _unique(variance, "scale_id", file)
    for index, value in enumerate(variance["variance_ratio"].to_list()):
        if not 0 < _number(value, file, index, "variance_ratio") <= 1:
            raise _fail("variance_ratio must be above 0 and at most 1 (the Bhatia-Davis bound)", file, index)
    return questions, measures, variance.with_columns(pl.col("variance_ratio").cast(pl.Float64))


def load_framework(directory: Path = FRAMEWORK_DIR, reference_dir: Path = REFERENCE_DIR) -> Framework:
    """Read and check every framework file against the reference data; raises InputDataError at the first problem."""
    support_types = _read(directory, "support_types.csv", ("support_type", "support_name", "rationale"))
    _unique(support_types, "support_type", "support_types.csv")
    factors = parse_factors(
        _read(directory, "factors.csv", ("factor_id", "factor_name", "short_name", "index_weight", "weight_rationale"))
    )
    barriers = parse_barriers(
        _read(directory, "barriers.csv", ("barrier", "barrier_name", "definition", "support_type")), support_types
    )
    questions, measures, scale_variance = reference_tables(reference_dir)
    performance_measures = set(measures.filter(pl.col("source") == PERFORMANCE_SOURCE)["measure"].to_list())
    outcomes = _read(directory, "outcomes.csv", ("measure", "expected_sign", "rationale"))
    for index, row in enumerate(outcomes.iter_rows(named=True)):
        if row["expected_sign"] not in ("1", "-1"):
            raise _fail("expected_sign must be 1 or -1", "outcomes.csv", index, "expected_sign")
        if row["measure"] not in performance_measures:
            raise _fail(
                f"unknown measure {row['measure']!r} (not in data/reference/performance_measures.csv)",
                "outcomes.csv",
                index,
                "measure",
            )
    indicators = parse_indicators(
        _read(directory, "indicators.csv", INDICATOR_COLUMNS), factors, barriers, questions, measures, scale_variance
    )
    barrier_file = "barrier_indicators.csv"
    barrier_indicators = parse_indicators(
        _read(directory, barrier_file, INDICATOR_COLUMNS),
        factors,
        barriers,
        questions,
        measures,
        scale_variance,
        barrier_file,
        barrier_only=True,
    )
    indicators = pl.concat([indicators, barrier_indicators])
    _unique(indicators, "indicator_id", barrier_file)
    return Framework(
        indicators=indicators,
        factors=factors,
        barriers=barriers,
        support_types=support_types,
        questions=questions,
        measures=measures,
        scale_variance=scale_variance,
        outcomes=outcomes.with_columns(pl.col("expected_sign").cast(pl.Int64)),
        published_evidence=parse_published_evidence(
            _read(directory, "published_evidence.csv", EVIDENCE_COLUMNS), "published_evidence.csv"
        ),
        settings=parse_settings(
            _read(directory, "method_settings.csv", ("setting", "value", "alternatives", "rationale"))
        ),
        factor_weight_scenarios=parse_factor_weight_scenarios(
            _read(directory, "factor_weight_scenarios.csv", ("scenario", "factor_id", "index_weight", "rationale"))
        ),
    )


EVIDENCE_COLUMNS = (
    "validity_check",
    "statistic",
    "period",
    "weights",
    "published_estimate",
    "published_p",
    "source",
    "note",
)
PANEL_WEIGHTS = ("none", "clinical_respondents")


def parse_published_evidence(raw: pl.DataFrame, file: str) -> pl.DataFrame:
    """One row per estimate to reproduce on the engagement panel: its years (YYYY-YYYY), its regression weights
    and, where the source states one, the published figure and its citation."""
    for index, row in enumerate(raw.iter_rows(named=True)):
        if not re.fullmatch(r"\d{4}-\d{4}", row["period"] or ""):
            raise _fail(f"period {row['period']!r} must be a span of years such as 2012-2018", file, index, "period")
        if row["weights"] not in PANEL_WEIGHTS:
            raise _fail(f"weights {row['weights']!r} is not one of {list(PANEL_WEIGHTS)}", file, index, "weights")
        if not _blank(row["published_estimate"]) and _blank(row["source"]):
            raise _fail("a published estimate needs its citation in source", file, index, "source")
        for column in ("published_estimate", "published_p"):
            if not _blank(row[column]):
                _number(row[column], file, index, column)
    if raw.select("validity_check", "statistic", "period").is_duplicated().any():
        raise _fail("duplicate (validity_check, statistic, period)", file)
    return raw.with_columns(
        pl.col("published_estimate", "published_p").replace("", None).cast(pl.Float64),
        pl.col("source", "note").replace("", None),
        year_from=pl.col("period").str.slice(0, 4).cast(pl.Int64),
        year_to=pl.col("period").str.slice(5, 4).cast(pl.Int64),
    )


def available_keys(
    staff_survey_items: pl.DataFrame,
    people_promise_scores: pl.DataFrame,
    performance_annual: pl.DataFrame,
    trust_context: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Which question or measure has at least one value in which period: (source, key, period)."""
    context = (
        trust_context.select(source=pl.lit(CONTEXT_SOURCE), key=pl.col("measure"), period=pl.col("period"))
        if trust_context is not None
        else pl.DataFrame(schema={"source": pl.String, "key": pl.String, "period": pl.String})
    )
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
            context,
        ]
    ).unique()


def _dataset_of(framework: Framework) -> dict[tuple[str, str], str]:
    """(source, key) → the dataset that provides it: each performance dataset (A&E, RTT, ...) on its own."""
    return {(s, k): d for s, k, d in framework.measures.select("source", "measure", "dataset").iter_rows()}


def _datasets_with_data(framework: Framework, available: pl.DataFrame) -> set[str]:
    dataset_of = _dataset_of(framework)
    return {dataset_of.get((s, k), s) for s, k in available.select("source", "key").iter_rows()}


def judged_datasets(framework: Framework, staff_survey_items: pl.DataFrame, available: pl.DataFrame) -> set[str]:
    """The datasets whose data in this build can show that an indicator is missing.

    A dataset with no data in this build cannot (a web run in which no RTT month could be downloaded yet, a build
    of some months only), and nor can the staff survey when all its values come from the trust-level extract (about
    20 questions a year, e.g. a snapshot run of `--years 2021-2023`), which leaves most questions out by design."""
    datasets = _datasets_with_data(framework, available)
    if (staff_survey_items["value_source"] == "extract").all():
        datasets.discard(SURVEY_SOURCE)
    return datasets


def validate_framework(framework: Framework, available: pl.DataFrame, judged: set[str] | None = None) -> list[str]:
    """Reject an indicator that no year of data provides (raises InputDataError naming its row and field).

    Judged against the data this build holds, for the `judged` datasets (default: every dataset with data; see
    judged_datasets); the indicators of the others cannot be judged and are returned as warnings."""
    provided = set(available.select("source", "key").iter_rows())
    dataset_of = _dataset_of(framework)
    if judged is None:
        judged = _datasets_with_data(framework, available)
    warnings = []
    for row in framework.indicators.iter_rows(named=True):
        if (row["source"], row["key"]) in provided:
            continue
        dataset = dataset_of.get((row["source"], row["key"]), row["source"])
        if dataset not in judged:
            warnings.append(f"{row['indicator_id']}: {dataset} cannot show it missing in this build")
            continue
        column = "question_id" if row["source"] == SURVEY_SOURCE else "measure"
        raise _fail(
            f"no year of data provides {row['key']} in {row['source']} (indicator {row['indicator_id']})",
            row.get("declared_in") or "indicators.csv",
            row.get("file_row"),
            column,
        )
    return warnings


def indicator_catalogue(framework: Framework, available: pl.DataFrame | None = None) -> pl.DataFrame:
    """The published indicator_catalogue: the framework rows with factor and question text and the periods with
    data."""
    text = framework.questions.select("question_id", "question_text")
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
            "variance_ratio",
            "question_text",
            "periods_available",
        )
        .sort("factor_id", "indicator_id")
    )
