"""Benchmark: build every chart and the whole offline report for one survey year.

Target (issue 16): under 10 s on two cores and under 600 MB peak memory for every trust and group of one survey
year, with the drivers, methodology and number tables; the script also reports the size on disk.

By default the inputs are the real published tables: the file `nhs-readiness run` publishes
(data/published/nhs_change_readiness.duckdb, or --database), read as the `published_report` asset reads them, for
the latest ranked survey year (or --year). Run `uv run nhs-readiness run` first.

With --synthetic the inputs are SYNTHETIC instead, generated with a fixed seed in the shape the published contracts
describe: 210 trusts in the five NSS24 trust benchmarking groups (122 / 50 / 14 / 13 / 11, data-sources.md §3.4),
7 factors, 4 barriers, 3 survey years, q12b for the funnel plots, 3 monthly SPC series of 15 months per trust and a
validity table. None of it is NHS data, and the report it writes says so on every page.

    uv run python bench/report_build.py [--database FILE] [--year 2024] [--synthetic] [--out bench/out/report]
"""

import argparse
import resource
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from assets.publish.report.build import ReportInputs, build_report
from assets.publish.report.inputs import read_report_inputs
from pipeline.settings import PUBLISHED_DB_NAME, default_published_dir

GROUP_SIZES = {
    "Acute and Acute & Community Trusts": 122,
    "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts": 50,
    "Community Trusts": 14,
    "Acute Specialist Trusts": 13,
    "Ambulance Trusts": 11,
}
FACTORS = {
    1: "Committed and respected leadership that engages staff",
    2: "A culture hospitable to, and supportive of, change",
    3: "Management practices that ensure execution and implementation",
    4: "Capabilities and skills to identify and solve problems",
    5: "Data and analytics that measure and communicate impact",
    6: "Resources and support for change",
    7: "An enabling environment which supports and drives change",
}
BARRIERS = ["recognition", "motivation", "headspace", "capability"]
YEARS = [2022, 2023, 2024]
MEASURES = {
    "ae_4hr_pct_all": ("A&E attendances seen within 4 hours", "% of attendances", 74.0, 4.0),
    "rtt_within_18w_pct": ("RTT pathways within 18 weeks", "% of incomplete pathways", 60.0, 3.0),
    "sickness_absence_pct": ("Sickness absence rate", "% of FTE days", 5.0, 0.5),
}
POINT_TYPES = ["common_cause"] * 16 + [
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
]
MINIMUM_COVERAGE = 0.6  # synthetic: trusts below it are listed, not ranked


def synthetic_inputs(seed: int = 20261122) -> ReportInputs:
    rng = np.random.default_rng(seed)
    trusts = [
        (f"S{number:03d}", f"Synthetic trust {number:03d}", group)
        for number, group in enumerate((g for g, size in GROUP_SIZES.items() for _ in range(size)), start=1)
    ]
    codes = [code for code, _, _ in trusts]
    level = dict(zip(codes, rng.normal(0, 0.5, len(codes)), strict=True))
    index_rows, factor_rows, barrier_rows = [], [], []
    for year in YEARS:
        for code, _, group in trusts:
            factors = {f: level[code] + rng.normal(0, 0.4) for f in FACTORS}
            if rng.random() < 0.03:
                factors[5] = None
            for factor, score in factors.items():
                width = rng.uniform(0.15, 0.4)
                factor_rows.append(
                    (
                        code,
                        year,
                        factor,
                        FACTORS[factor],
                        score,
                        *((None, None) if score is None else (score - width, score + width)),
                        0.0 if score is None else 1.0,
                    )
                )
            for barrier in BARRIERS:
                score, width = level[code] + rng.normal(0, 0.4), rng.uniform(0.15, 0.4)
                barrier_rows.append((code, year, barrier, score, score - width, score + width, 1.0))
            measured = [s for s in factors.values() if s is not None]
            weakest = sorted((s, f) for f, s in factors.items() if s is not None)[:2]
            coverage = 0.4 if rng.random() < 0.03 else len(measured) / len(FACTORS)
            score, width = float(np.mean(measured)), rng.uniform(0.2, 0.5)
            index_rows.append(
                dict(
                    org_code=code,
                    survey_year=year,
                    benchmarking_group=group,
                    index_score=score,
                    index_lo=score - width,
                    index_hi=score + width,
                    coverage=coverage,
                    weakest_factor_1=str(weakest[0][1]),
                    weakest_factor_2=str(weakest[1][1]),
                    weakest_barrier=BARRIERS[int(rng.integers(4))],
                    suggested_support_type=f"Type {int(rng.integers(1, 4))}",
                )
            )
    index = pl.DataFrame(index_rows).with_columns(ranked=pl.col("coverage") >= MINIMUM_COVERAGE)
    rank = pl.col("index_score").rank("ordinal", descending=True).over("survey_year", "benchmarking_group", "ranked")
    index = (
        index.with_columns(
            rank_in_group=pl.when("ranked").then(rank),
            n_in_group=pl.col("ranked").sum().over("survey_year", "benchmarking_group"),
        )
        .with_columns(
            rank_lo=pl.when("ranked").then((pl.col("rank_in_group") - 3).clip(1)),
            rank_hi=pl.when("ranked").then((pl.col("rank_in_group") + 3).clip(upper_bound=pl.col("n_in_group"))),
        )
        .drop("ranked")
    )
    factor_scores = pl.DataFrame(
        factor_rows,
        orient="row",
        schema=["org_code", "survey_year", "factor_id", "factor_name", "score", "score_lo", "score_hi", "coverage"],
    )
    barrier_scores = pl.DataFrame(
        barrier_rows,
        orient="row",
        schema=["org_code", "survey_year", "barrier", "score", "score_lo", "score_hi", "coverage"],
    )
    survey = pl.DataFrame(
        {
            "org_code": codes,
            "survey_year": [YEARS[-1]] * len(codes),
            "question_id": ["q12b"] * len(codes),
            "pct_unfavourable": rng.normal(33, 5, len(codes)).clip(5, 80),
            "base": rng.lognormal(7.3, 0.7, len(codes)).astype(int).clip(50),
        }
    )
    months = pl.date_range(date(2024, 4, 1), date(2025, 6, 1), "1mo", eager=True).to_list()
    spc_rows = []
    for code in codes:
        for measure, (_, _, mean, spread) in MEASURES.items():
            values = rng.normal(mean, spread, len(months))
            for month, value in zip(months, values, strict=True):
                spc_rows.append(
                    (
                        code,
                        measure,
                        month,
                        value,
                        mean,
                        mean - 3 * spread,
                        mean + 3 * spread,
                        POINT_TYPES[int(rng.integers(len(POINT_TYPES)))],
                    )
                )
    spc = pl.DataFrame(
        spc_rows,
        orient="row",
        schema=["org_code", "measure", "period_month", "value", "mean", "lpl", "upl", "point_type"],
    )
    measures = pl.DataFrame(
        [(m, label, unit, "increase") for m, (label, unit, _, _) in MEASURES.items()],
        orient="row",
        schema=["measure", "label", "unit", "improvement_direction"],
    )
    latest = index.filter(pl.col("survey_year") == YEARS[-1])
    points = pl.concat(
        [
            latest.select(
                "org_code",
                "index_score",
                outcome=pl.lit(outcome),
                outcome_value=pl.lit(centre) + pl.col("index_score") * slope + rng.normal(0, 1, latest.height),
            )
            for outcome, centre, slope in (("sickness_absence_pct", 5.0, -0.4), ("ae_4hr_pct_all", 74.0, 2.0))
        ]
    )
    summary = pl.DataFrame(
        {
            "outcome": ["sickness_absence_pct", "ae_4hr_pct_all"],
            "n": [latest.height] * 2,
            "coefficient": [-0.2, 0.15],
            "ci_lo": [-0.32, 0.02],
            "ci_hi": [-0.07, 0.28],
        }
    )
    names = pl.DataFrame(trusts, orient="row", schema=["org_code", "org_name", "group"]).select(
        "org_code", "org_name", label=pl.format("{} ({})", "org_name", "org_code")
    )
    return ReportInputs(
        survey_year=YEARS[-1],
        readiness_index=index,
        factor_scores=factor_scores,
        barrier_scores=barrier_scores,
        names=names,
        built_on=date.today(),
        staff_survey_items=survey,
        spc_monthly=spc,
        performance_measures=measures,
        validity_summary=summary,
        validity_points=points,
        data_note="SYNTHETIC benchmark inputs from bench/report_build.py: every number here is made up, not NHS data.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "report")
    parser.add_argument("--database", type=Path, default=Path(default_published_dir()) / PUBLISHED_DB_NAME)
    parser.add_argument("--year", type=int, help="survey year (default: the latest with ranked trusts)")
    parser.add_argument("--synthetic", action="store_true", help="made-up inputs of realistic shape, not NHS data")
    args = parser.parse_args()
    if not args.synthetic and not args.database.exists():
        parser.error(f"no published file at {args.database}: run `uv run nhs-readiness run` first, or --synthetic")
    started = time.perf_counter()
    inputs = synthetic_inputs() if args.synthetic else read_report_inputs(args.database, args.year)
    generated = time.perf_counter() - started
    cpu = time.process_time()
    summary = build_report(inputs, args.out)
    cpu = time.process_time() - cpu
    sizes = {}
    for path in args.out.rglob("*"):
        if path.is_file():
            top = path.relative_to(args.out).parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "inputs: SYNTHETIC, realistic shape (not NHS data)"
        if args.synthetic
        else f"inputs: the published tables of {args.database}, survey year {inputs.survey_year}"
    )
    print(
        f"  readiness_index {inputs.readiness_index.height} rows, factor_scores {inputs.factor_scores.height}, "
        f"barrier_scores {inputs.barrier_scores.height}, spc_monthly {inputs.spc_monthly.height} "  # type: ignore[union-attr]
        f"({'generated' if args.synthetic else 'read'} in {generated:.1f} s)"
    )
    print(
        f"report: {summary.trusts} trusts, {summary.groups} groups, {summary.pages} pages, {summary.charts} charts, "
        f"{summary.files} files"
    )
    print(
        f"build time: {summary.seconds:.1f} s (target < 10 s on two cores); CPU time of this process {cpu:.1f} s, "
        "a steadier figure on a busy machine"
    )
    print(
        f"size on disk: {summary.bytes / 1e6:.1f} MB  "
        + "  ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items()))
    )
    print(f"peak memory (RSS): {peak_mb:.0f} MB (target < 600 MB)")
    if summary.skipped_charts:
        print("skipped charts:", "; ".join(summary.skipped_charts))


if __name__ == "__main__":
    main()
