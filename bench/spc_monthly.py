"""Time and peak memory of spc_monthly_table on a table the size of ten years of performance_monthly.

The values are SYNTHETIC random walks (seeded), used only to time the calculation; they are not NHS data.
Run: uv run python bench/spc_monthly.py [--orgs 250] [--months 120]
"""

import argparse
import resource
import time
from datetime import date

import numpy as np
import polars as pl

from assets.publish.spc.xmr import spc_monthly_table

MEASURES = {
    "ae_4hr_pct_all": "increase",
    "ae_4hr_pct_type1": "increase",
    "ae_12hr_dta_waits": "decrease",
    "rtt_incomplete": "decrease",
    "rtt_within_18w_pct": "increase",
    "rtt_52w_plus": "decrease",
    "cancer_fds_pct": "increase",
    "cancer_31d_pct": "increase",
    "cancer_62d_pct": "increase",
    "sickness_absence_pct": "decrease",
}


def synthetic_performance(orgs: int, months: int, seed: int = 20240401) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    series = orgs * len(MEASURES)
    walks = 50 + np.cumsum(rng.normal(0, 1, size=(series, months)), axis=1)
    month_starts = pl.Series([date(2015 + (3 + m) // 12, (3 + m) % 12 + 1, 1) for m in range(months)])
    return pl.DataFrame(
        {
            "org_code": np.repeat([f"R{i:03d}" for i in range(orgs)], len(MEASURES) * months),
            "period_month": pl.concat([month_starts] * series),
            "measure": np.tile(np.repeat(list(MEASURES), months), orgs),
            "numerator": None,
            "denominator": None,
            "value": walks.ravel(),
            "source_file": "synthetic",
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=250)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    performance = synthetic_performance(args.orgs, args.months)
    directions = pl.DataFrame({"measure": list(MEASURES), "improvement_direction": list(MEASURES.values())})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        table = spc_monthly_table(performance, directions)
        timings.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    special = table.filter(pl.col("point_type") != "common_cause").height
    print(
        f"spc_monthly_table: {performance.height:,} rows, {args.orgs * len(MEASURES):,} series; "
        f"best of {args.repeat}: {min(timings):.2f} s ({performance.height / min(timings):,.0f} rows/s); "
        f"peak RSS {peak:.0f} MB (before the calls {before:.0f} MB); {special:,} special-cause points"
    )


if __name__ == "__main__":
    main()
