"""Benchmark: the real April 2026 RTT full extract (zip, 81.6 MB CSV) to provider measures.

Times `assets.staged.rtt.parse.parse_rtt_zip` against a straightforward pandas baseline (`read_csv` of the CSV
in the zip, filter Part_2 / C_999, `groupby` provider) on the same file in one process, checks that both give
the same numbers, and reports the peak memory of the process after our parse (before pandas is imported).

Usage: uv run python bench/rtt_parse.py [--repeat 3]
Targets (issue 5): under 2 s, at least 4× faster than the baseline, peak memory under 600 MB.

Measured on the 2-core build machine (5 runs, three bench runs): ours best 0.115-0.129 s, median 0.124-0.150 s;
pandas 3.1 best 0.651-0.677 s; speed-up 5.1-5.7× best/best, 4.4-5.3× median/median, 3.8-4.4× on the first call
(which also pays for Polars' first allocations); peak 345-375 MB. Where the time goes: Polars inflates the member
(handed over as gzip, see `member_for_polars`) and splits its 180,782 lines in about 40 ms, two substring filters
keep the 12,869 wanted lines in about 14 ms, and parsing those rows with typed counts takes about 30 ms.

Earlier designs and why they went: inflating block by block in Python (ISA-L, 55 ms; zlib, 160 ms) and searching
each block with Polars took 0.25-0.30 s (2.2-2.7×), because counting newlines for line numbers cost 50 ms and each
freshly inflated block paid again for page faults; a `bytes.find` loop, a `re` scan, a Python line loop and one
typed whole-file Polars read (0.21 s) were all slower than that.
"""

import argparse
import resource
import statistics
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ZIP = ROOT / "data" / "snapshot" / "rtt" / "20260430-RTT-April-2026-full-extract.csv.zip"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def ours() -> dict[str, tuple[float, float, float]]:
    import polars as pl

    from assets.staged.rtt.parse import parse_rtt_zip

    measures = parse_rtt_zip(ZIP, date(2026, 4, 1)).measures
    wide = measures.pivot(on="measure", index="reported_org_code", values="numerator")
    return {
        row["reported_org_code"]: (row["rtt_incomplete"], row["rtt_within_18w_pct"], row["rtt_52w_plus"])
        for row in wide.select(pl.all()).iter_rows(named=True)
    }


def pandas_baseline() -> dict[str, tuple[float, float, float]]:
    import pandas as pd

    with zipfile.ZipFile(ZIP) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".csv") and not n.startswith("__MACOSX"))
        with archive.open(member) as handle:
            frame = pd.read_csv(handle)
    buckets = [c for c in frame.columns if c.startswith("Gt ")]
    within = buckets[:18]
    over_52 = [c for c in buckets if int(c.split()[1]) >= 52]
    part2 = frame[(frame["RTT Part Type"] == "Part_2") & (frame["Treatment Function Code"] == "C_999")].copy()
    part2["within_18"] = part2[within].sum(axis=1)
    part2["over_52"] = part2[over_52].sum(axis=1)
    grouped = part2.groupby("Provider Org Code")[["Total All", "within_18", "over_52"]].sum()
    return {code: (float(r["Total All"]), float(r["within_18"]), float(r["over_52"])) for code, r in grouped.iterrows()}


def timed(function, repeat: int) -> tuple[list[float], dict]:
    seconds, result = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import polars  # noqa: F401  (imported before timing: the parse, not library start-up, is measured)

    from assets.staged.rtt import parse  # noqa: F401  (module import is not part of the parse)

    ours_s, ours_result = timed(ours, args.repeat)
    ours_peak = peak_mb()
    import pandas  # noqa: F401

    base_s, base_result = timed(pandas_baseline, args.repeat)
    same = ours_result.keys() == base_result.keys() and all(ours_result[k] == base_result[k] for k in ours_result)
    best_ours, best_base = min(ours_s), min(base_s)
    print(f"file: {ZIP.name} ({ZIP.stat().st_size / 1e6:.1f} MB zip)")
    print(f"{args.repeat} runs each; first call / best / median")
    print(f"ours (parse_rtt_zip):           {ours_s[0]:.3f} / {best_ours:.3f} / {statistics.median(ours_s):.3f} s")
    print(f"pandas read_csv + groupby:      {base_s[0]:.3f} / {best_base:.3f} / {statistics.median(base_s):.3f} s")
    print(
        f"speed-up: best/best {best_base / best_ours:.1f}×, median/median "
        f"{statistics.median(base_s) / statistics.median(ours_s):.1f}×, first/first {base_s[0] / ours_s[0]:.1f}×"
    )
    print(f"peak memory of the process after our parse: {ours_peak:.0f} MB (after the baseline: {peak_mb():.0f} MB)")
    print(f"providers: {len(ours_result)}; identical results: {same}")
    ok = same and best_ours < 2 and best_base / best_ours >= 4 and ours_peak < 600
    print("targets met" if ok else "TARGETS NOT MET (under 2 s, 4× faster than the baseline, under 600 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
