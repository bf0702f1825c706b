"""Benchmark: 1,000 Monte Carlo draws over every trust and indicator of one survey year of the real staged tables,
with the intervals, the relative profiles of factors and barriers (p_weakest) and the support type of every draw
(target, issue 14: < 3 s and < 1 GB on two cores), and a check that the fixed seed gives identical output on rerun.

Reads staff_survey_items, people_promise_scores, performance_annual and survey_organisations from the working
warehouse that `uv run nhs-readiness run` builds, builds the indicators table as the pipeline does, then times the
draws and their intervals twice. Compare the printed digest between separate runs to check reproducibility across
processes.

Run: uv run nhs-readiness run && uv run python bench/index_montecarlo.py [--warehouse PATH] [--year 2024]
"""

import argparse
import hashlib
import resource
import time

import duckdb
import polars as pl

from assets.factors.profile import profile_draws, profile_frame
from assets.index.montecarlo import intervals, simulate_year, year_arrays
from assets.index.support import type_frame
from assets.indicators.assets import INPUT_TABLES
from assets.indicators.build import build_indicators
from assets.indicators.framework import Framework, load_framework
from pipeline.settings import default_warehouse_path


def warehouse_inputs(path: str) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(path, read_only=True)
    try:
        return {name: con.sql(f'SELECT * FROM "{name}"').pl() for name in INPUT_TABLES}
    finally:
        con.close()


def run(indicators: pl.DataFrame, framework: Framework, year: int) -> tuple[float, pl.DataFrame]:
    level = framework.settings.interval_level
    started = time.perf_counter()
    draws = simulate_year(year_arrays(indicators, framework, year), framework.settings)
    bounds = intervals({year: draws}, level)
    factors = profile_frame(draws, profile_draws(draws.factors, level), "factors")
    barrier_summary = profile_draws(draws.barriers, level)
    barriers = profile_frame(draws, barrier_summary, "barriers")
    types = type_frame(draws, barrier_summary.weakest, framework)
    elapsed = time.perf_counter() - started
    keys = ["org_code", "survey_year"]
    return elapsed, (
        bounds.index.join(types, on=keys)
        .join(bounds.factors.join(factors, on=[*keys, "factor_id"]), on=keys)
        .join(barriers.select(*keys, "barrier", barrier_p_weakest="p_weakest"), on=keys)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=default_warehouse_path())
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    framework = load_framework()
    indicators = build_indicators(framework, **warehouse_inputs(args.warehouse)).filter(
        pl.col("survey_year") == args.year
    )
    print(f"inputs: real staged tables in {args.warehouse}")
    print(
        f"survey year {args.year}: {indicators['org_code'].n_unique()} trusts, "
        f"{indicators['indicator_id'].n_unique()} of {framework.indicators.height} indicators, "
        f"{indicators.height} values"
    )
    first_seconds, first = run(indicators, framework, args.year)
    second_seconds, second = run(indicators, framework, args.year)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{framework.settings.mc_draws} draws: {first_seconds:.2f} s (rerun {second_seconds:.2f} s); "
        f"peak RSS {peak_mb:.0f} MB"
    )
    print(f"identical output on rerun with seed {framework.settings.seed}: {first.equals(second)}")
    digest = hashlib.sha256(first.sort("org_code", "factor_id", "barrier").write_csv().encode()).hexdigest()
    print(f"output sha256: {digest}")


if __name__ == "__main__":
    main()
