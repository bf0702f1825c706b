"""Values read by hand from the real snapshot files, shared by the tests of the published file."""

import csv

from pipeline.settings import SNAPSHOT_DIR


def rbn_sickness_absence_2024_25() -> float:
    """By hand from the 12 real monthly CSVs (data/snapshot/sickness-absence/nhs_sickness_absence_2024-04.csv to
    2025-03.csv, the RBN row of each): 100 × ΣFTE_DAYS_LOST ÷ ΣFTE_DAYS_AVAILABLE. April 2024, for example, is
    24519.82471 ÷ 637391.08959 (3.85%)."""
    lost = available = 0.0
    files = sorted((SNAPSHOT_DIR / "sickness-absence").glob("nhs_sickness_absence_202*.csv"))
    assert (files[0].stem[-7:], files[-1].stem[-7:], len(files)) == ("2024-04", "2025-03", 12)
    for path in files:
        with path.open(encoding="utf-8-sig") as handle:
            (row,) = [r for r in csv.DictReader(handle) if r["ORG_CODE"] == "RBN"]
        lost += float(row["FTE_DAYS_LOST"])
        available += float(row["FTE_DAYS_AVAILABLE"])
    return 100 * lost / available
