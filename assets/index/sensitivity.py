"""How ranks move under the method's uncertain choices (index_sensitivity), three ways:

- method scenarios: every combination of normalisation and aggregation (default and alternatives in
  method_settings.csv) other than the default pair, each alternative minimum coverage per factor and each stricter
  minimum denominator for performance rates (missing-data rules); the rank under the scenario and its shift from the
  published rank;
- leave one indicator out: the index rebuilt without each indicator in turn (scenario leave_out:<indicator_id>);
- factor weights: the index with each set of factor weights of factor_weight_scenarios.csv instead of the equal
  weights of factors.csv (scenario factor_weights:<name>);
- variance-based: the first-order Sobol index of each trust's rank for the weights, normalisation, aggregation and
  sampling error with its design effect (scenario sobol:<input>, assets/index/sobol.py); rank columns hold the
  published rank only.
For each ranked trust: its rank under the scenario, the shift, the median absolute shift per trust over the
scenarios of the same kind and per scenario over all ranked trusts.
"""

import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.index.montecarlo import year_arrays
from assets.index.sobol import sobol_rows
from assets.indicators.build import normalise
from assets.indicators.framework import PERFORMANCE_SOURCE, Framework
from pipeline import dictionary

SENSITIVITY_COLUMNS = list(dictionary.table("index_sensitivity").columns)  # in published order
KEYS = ["org_code", "survey_year"]


def _ranks(frame: pl.DataFrame, scenario: str, kind: str, normalisation: str, aggregation: str) -> pl.DataFrame:
    return frame.select(
        *KEYS,
        scenario=pl.lit(scenario),
        sensitivity_kind=pl.lit(kind),
        normalisation=pl.lit(normalisation),
        aggregation=pl.lit(aggregation),
        scenario_rank="rank_in_group",
    )


def method_scenarios(indicators: pl.DataFrame, framework: Framework) -> list[pl.DataFrame]:
    settings = framework.settings
    scenarios = []
    for normalisation in (settings.normalisation, *settings.normalisation_alternatives):
        factors = score_factors(normalise(indicators, normalisation, settings.min_peers), framework)
        for aggregation in (settings.aggregation, *settings.aggregation_alternatives):
            if (normalisation, aggregation) == (settings.normalisation, settings.aggregation):
                continue
            ranks = aggregate_index(factors, framework, aggregation=aggregation, normalisation=normalisation)
            scenarios.append(_ranks(ranks, f"{normalisation}+{aggregation}", "method", normalisation, aggregation))
    for coverage in settings.min_factor_coverage_alternatives:
        changed = framework.with_settings(min_factor_coverage=float(coverage))
        ranks = aggregate_index(score_factors(indicators, changed), changed)
        scenario = f"min_factor_coverage={coverage}"
        scenarios.append(_ranks(ranks, scenario, "missing_data", settings.normalisation, settings.aggregation))
    for denominator in settings.min_performance_denominator_alternatives:
        # only a stricter threshold can be tried here: rates below the published one were never built
        kept = indicators.filter(
            (pl.col("source") != PERFORMANCE_SOURCE) | (pl.col("base") >= float(denominator)) | pl.col("base").is_null()
        )
        factors = score_factors(normalise(kept, settings.normalisation, settings.min_peers), framework)
        scenario = f"min_performance_denominator={denominator}"
        ranks = aggregate_index(factors, framework)
        scenarios.append(_ranks(ranks, scenario, "missing_data", settings.normalisation, settings.aggregation))
    return scenarios


def leave_one_out(indicators: pl.DataFrame, framework: Framework) -> list[pl.DataFrame]:
    """The index without each indicator in turn (its weight simply gone; the normalised scores of the others are
    unchanged because each indicator is normalised on its own)."""
    settings = framework.settings
    scenarios = []
    for indicator in framework.indicators.filter(pl.col("factor_id").is_not_null())["indicator_id"].to_list():
        subset = framework.with_indicators(framework.indicators.filter(pl.col("indicator_id") != indicator))
        ranks = aggregate_index(score_factors(indicators.filter(pl.col("indicator_id") != indicator), subset), subset)
        scenarios.append(
            _ranks(ranks, f"leave_out:{indicator}", "leave_one_out", settings.normalisation, settings.aggregation)
        )
    return scenarios


def variance_based(indicators: pl.DataFrame, framework: Framework, ranked_years: list[int]) -> pl.DataFrame:
    settings = framework.settings
    frames = [
        sobol_rows(year_arrays(indicators, framework, year), framework, settings.sobol_base_runs)
        for year in ranked_years
    ]
    if not frames:
        return pl.DataFrame()
    return pl.concat(frames).select(
        *KEYS,
        scenario=pl.format("sobol:{}", "input"),
        sensitivity_kind=pl.lit("variance_based"),
        normalisation=pl.lit(None, dtype=pl.String),
        aggregation=pl.lit(None, dtype=pl.String),
        first_order_index="first_order_index",
    )


def factor_weight_scenarios(factors: pl.DataFrame, framework: Framework) -> list[pl.DataFrame]:
    """The index from the same factor scores (they do not depend on the factor weights) under each scenario's
    factor weights."""
    settings = framework.settings
    scenarios = []
    for name in framework.factor_weight_scenario_names:
        ranks = aggregate_index(factors, framework.with_factor_weights(name))
        scenarios.append(
            _ranks(ranks, f"factor_weights:{name}", "factor_weights", settings.normalisation, settings.aggregation)
        )
    return scenarios


def rank_sensitivity(indicators: pl.DataFrame, framework: Framework, *, sobol: bool = True) -> pl.DataFrame:
    factors = score_factors(indicators, framework)
    default = aggregate_index(factors, framework).filter("ranked")
    base = default.select(*KEYS, "benchmarking_group", "n_in_group", default_rank="rank_in_group")
    scenarios = (
        method_scenarios(indicators, framework)
        + leave_one_out(indicators, framework)
        + factor_weight_scenarios(factors, framework)
    )
    shifts = (
        base.join(pl.concat(scenarios), on=KEYS)
        .with_columns(rank_shift=pl.col("scenario_rank") - pl.col("default_rank"))
        .with_columns(abs_rank_shift=pl.col("rank_shift").abs())
        .with_columns(
            trust_median_abs_rank_shift=pl.col("abs_rank_shift").median().over(*KEYS, "sensitivity_kind"),
            scenario_median_abs_rank_shift=pl.col("abs_rank_shift").median().over("survey_year", "scenario"),
            first_order_index=pl.lit(None, dtype=pl.Float64),
        )
    )
    parts = [shifts]
    ranked_years = sorted(default["survey_year"].unique().to_list())
    if sobol and ranked_years:
        parts.append(base.join(variance_based(indicators, framework, ranked_years), on=KEYS))
    return (
        pl.concat(parts, how="diagonal_relaxed")
        .select(SENSITIVITY_COLUMNS)
        .sort("survey_year", "scenario", "benchmarking_group", "default_rank", "org_code")
    )
