"""Benchmark: 1,000 Monte Carlo draws over every trust and indicator of one survey year (target: < 10 s, < 2 GB),
and a check that a fixed seed gives identical output on rerun.

The staged input tables are not on this branch yet, so by default the inputs are GENERATED, NOT NHS DATA:
210 trusts in the five official benchmarking groups with the NSS24 group sizes (data-sources.md §3.4), every
framework indicator, survey bases of 100-5,000 responses, and performance measures for acute trusts only.
Values are random draws of plausible magnitude, used only to time the computation. With --warehouse PATH the
script instead reads the real staged tables from a built warehouse (the integrator's rerun on real data).

Run: uv run python bench/index_montecarlo.py [--warehouse data/work/warehouse.duckdb] [--year 2024]
"""

import argparse
import hashlib
import resource
import time

import numpy as np
import polars as pl

from assets.index.montecarlo import intervals, simulate_year, year_arrays
from assets.indicators.build import build_indicators, financial_year
from assets.indicators.framework import PERFORMANCE_SOURCE, SURVEY_SOURCE, Framework, load_framework

# NSS24 trust rows per benchmarking group (data-sources.md §3.4): 122 + 50 + 14 + 13 + 11 = 210
GROUP_SIZES = {
    "Acute and Acute & Community Trusts": 122,
    "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts": 50,
    "Community Trusts": 14,
    "Acute Specialist Trusts": 13,
    "Ambulance Trusts": 11,
}


def generated_inputs(framework: Framework, survey_year: int, seed: int = 1) -> dict[str, pl.DataFrame]:
    """SYNTHETIC inputs of realistic shape (see the module docstring); never NHS figures."""
    rng = np.random.default_rng(seed)
    orgs = pl.DataFrame(
        {
            "org_code": [f"X{i:03d}" for i in range(sum(GROUP_SIZES.values()))],
            "survey_year": survey_year,
            "benchmarking_group": [g for g, n in GROUP_SIZES.items() for _ in range(n)],
        }
    )
    questions = framework.indicators.filter(pl.col("source") == SURVEY_SOURCE)["question_id"].to_list()
    n_orgs, n_questions = orgs.height, len(questions)
    culture = rng.normal(0, 0.6, n_orgs)[:, None]  # a shared trust effect so indicators correlate as real ones do
    score = np.clip(6.0 + culture + rng.normal(0, 0.4, (n_orgs, n_questions)), 0.5, 9.5)
    items = pl.DataFrame(
        {
            "org_code": np.repeat(orgs["org_code"].to_numpy(), n_questions),
            "survey_year": survey_year,
            "question_id": np.tile(questions, n_orgs),
            "score_0_10": score.ravel(),
            "pct_favourable": np.clip(score.ravel() * 10 + rng.normal(0, 3, score.size), 1, 99),
            "pct_unfavourable": None,
            "base": rng.integers(100, 5000, n_orgs).repeat(n_questions).astype(np.float64),
            "value_source": "generated",
        },
        schema_overrides={"pct_unfavourable": pl.Float64},
    )
    acute = orgs.filter(pl.col("benchmarking_group").str.starts_with("Acute and"))["org_code"].to_list()
    measures = framework.indicators.filter(pl.col("source") == PERFORMANCE_SOURCE)["measure"].to_list()
    performance = pl.DataFrame(
        {
            "org_code": np.repeat(acute, len(measures)),
            "financial_year": financial_year(survey_year),
            "measure": np.tile(measures, len(acute)),
            "numerator": None,
            "denominator": 10000.0,
            "value": rng.uniform(50, 95, len(acute) * len(measures)),
        },
        schema_overrides={"numerator": pl.Float64},
    )
    empty_scores = pl.DataFrame(
        schema={
            "org_code": pl.String,
            "survey_year": pl.Int64,
            "measure_id": pl.String,
            "score": pl.Float64,
            "base": pl.Float64,
        }
    )
    return {
        "staff_survey_items": items,
        "people_promise_scores": empty_scores,
        "performance_annual": performance,
        "survey_organisations": orgs,
    }


def warehouse_inputs(path: str) -> dict[str, pl.DataFrame]:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        return {
            name: con.sql(f'SELECT * FROM "{name}"').pl()
            for name in ("staff_survey_items", "people_promise_scores", "performance_annual", "survey_organisations")
        }
    finally:
        con.close()


def run(indicators: pl.DataFrame, framework: Framework, year: int) -> tuple[float, pl.DataFrame]:
    started = time.perf_counter()
    draws = simulate_year(year_arrays(indicators, framework, year), framework.settings)
    bounds = intervals({year: draws}, framework.settings.interval_level)
    elapsed = time.perf_counter() - started
    return elapsed, bounds.index.join(bounds.factors, on=["org_code", "survey_year"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", help="read the real staged tables from this warehouse file")
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    framework = load_framework()
    inputs = warehouse_inputs(args.warehouse) if args.warehouse else generated_inputs(framework, args.year)
    indicators = build_indicators(framework, **inputs).filter(pl.col("survey_year") == args.year)
    trusts, cells = indicators["org_code"].n_unique(), indicators.height
    print(f"inputs: {'real warehouse ' + args.warehouse if args.warehouse else 'GENERATED (synthetic, not NHS data)'}")
    print(
        f"survey year {args.year}: {trusts} trusts, {indicators['indicator_id'].n_unique()} indicators, {cells} values"
    )
    first_seconds, first = run(indicators, framework, args.year)
    second_seconds, second = run(indicators, framework, args.year)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    draws = framework.settings.mc_draws
    print(f"{draws} draws: {first_seconds:.2f} s (rerun {second_seconds:.2f} s); peak RSS {peak_mb:.0f} MB")
    print(f"identical output on rerun with seed {framework.settings.seed}: {first.equals(second)}")
    # compare this digest between separate runs (separate processes) to check reproducibility end to end
    digest = hashlib.sha256(first.sort("org_code", "factor_id").write_csv().encode()).hexdigest()
    print(f"output sha256: {digest}")


if __name__ == "__main__":
    main()
