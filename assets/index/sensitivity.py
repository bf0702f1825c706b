"""How ranks move under the alternative normalisation and aggregation choices listed in method_settings.csv.

Every combination of normalisation (default and alternatives) and aggregation (default and alternatives) other
than the default pair is a scenario. For each ranked trust: its rank under the scenario, the shift from its default
rank, the median absolute shift over all scenarios (per trust) and over all ranked trusts (per scenario and year).
"""

import polars as pl

from assets.factors.scoring import score_factors
from assets.index.aggregate import aggregate_index
from assets.indicators.build import normalise
from assets.indicators.framework import Framework

SENSITIVITY_COLUMNS = [
    "org_code",
    "survey_year",
    "scenario",
    "benchmarking_group",
    "normalisation",
    "aggregation",
    "default_rank",
    "scenario_rank",
    "rank_shift",
    "abs_rank_shift",
    "trust_median_abs_rank_shift",
    "scenario_median_abs_rank_shift",
    "n_in_group",
]


def rank_sensitivity(indicators: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    settings = framework.settings
    keys = ["org_code", "survey_year"]
    default = aggregate_index(score_factors(indicators, framework), framework).filter("ranked")
    scenarios = []
    for normalisation in (settings.normalisation, *settings.normalisation_alternatives):
        factors = score_factors(normalise(indicators, normalisation, settings.min_peers), framework)
        for aggregation in (settings.aggregation, *settings.aggregation_alternatives):
            if (normalisation, aggregation) == (settings.normalisation, settings.aggregation):
                continue
            ranks = aggregate_index(factors, framework, aggregation=aggregation, normalisation=normalisation)
            scenarios.append(
                ranks.select(
                    *keys,
                    scenario=pl.lit(f"{normalisation}+{aggregation}"),
                    normalisation=pl.lit(normalisation),
                    aggregation=pl.lit(aggregation),
                    scenario_rank="rank_in_group",
                )
            )
    if not scenarios:
        return pl.DataFrame(schema={c: pl.String for c in SENSITIVITY_COLUMNS})
    return (
        default.select(*keys, "benchmarking_group", "n_in_group", default_rank="rank_in_group")
        .join(pl.concat(scenarios), on=keys)
        .with_columns(rank_shift=pl.col("scenario_rank") - pl.col("default_rank"))
        .with_columns(abs_rank_shift=pl.col("rank_shift").abs())
        .with_columns(
            trust_median_abs_rank_shift=pl.col("abs_rank_shift").median().over(keys),
            scenario_median_abs_rank_shift=pl.col("abs_rank_shift").median().over("survey_year", "scenario"),
        )
        .select(SENSITIVITY_COLUMNS)
        .sort("survey_year", "scenario", "benchmarking_group", "default_rank", "org_code")
    )
