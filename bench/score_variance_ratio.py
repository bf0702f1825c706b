"""Measure how much of the largest possible sampling variance a 0-10 item score actually has.

For an item mean m on the 0-10 scale, m(10 - m) is the largest variance any respondent-level score with that
mean can have (Bhatia-Davis). The real option distributions in the NSS24 organisational workbook give the
actual variance of each organisation's respondent scores; their ratio to m(10 - m) sets `variance_ratio` in
data/framework/response_scales.csv (the Monte Carlo uses variance_ratio * m(10 - m) / n as the squared standard
error of score_0_10). Run: uv run python bench/score_variance_ratio.py [path-to-workbook]

This script reads the real workbook directly (option percentages by header text, rows 1 and 5 as
data-sources.md §3.4 describes); it is a calibration measurement, not part of the pipeline.
"""

import math
import re
import sys
from pathlib import Path

import fastexcel
import numpy as np

from pipeline.settings import SNAPSHOT_DIR

WORKBOOK = SNAPSHOT_DIR / "nhs-staff-survey-nss24-workbooks" / "NSS24 detailed spreadsheets organisational results.xlsx"
# option headers in scoring order, lowest score first (data-sources.md §3.8)
FIVE_POINT = (
    ("% Strongly disagree", "% Disagree", "% Neither agree nor disagree", "% Agree", "% Strongly agree"),
    ("% Never", "% Rarely", "% Sometimes", "% Often", "% Always"),
    (
        "% Very dissatisfied",
        "% Dissatisfied",
        "% Neither satisfied nor dissatisfied",
        "% Satisfied",
        "% Very satisfied",
    ),
)
THREE_POINT = (("% No", "% Yes, to some extent", "% Yes, definitely"),)
SCORED_QUESTIONS = re.compile(r"^Q(\d+)")  # Q2-Q26 carry 0-10 scores; Q27 onwards are background questions


def item_ratios(path: Path) -> dict[str, dict[str, float]]:
    """Per scale, per question: the median over organisations of observed variance / m(10 - m)."""
    reader = fastexcel.read_excel(path)
    ratios: dict[str, dict[str, float]] = {"five_point": {}, "three_point": {}}
    for sheet in reader.sheet_names[1:15]:
        rows = reader.load_sheet(sheet, header_row=None).to_polars().rows()
        labels, headers, data = rows[0], rows[4], [r for r in rows[5:] if r[0]]
        for start, label in enumerate(labels):
            match = SCORED_QUESTIONS.match(label or "")
            if not match or not 2 <= int(match.group(1)) <= 26:
                continue
            for scale, orders, scores in (
                ("five_point", FIVE_POINT, [0.0, 2.5, 5.0, 7.5, 10.0]),
                ("three_point", THREE_POINT, [0.0, 5.0, 10.0]),
            ):
                block = tuple(headers[start : start + len(scores) + 1])
                for order in orders:
                    if set(order) != set(block[: len(order)]):
                        continue
                    columns = [start + block.index(option) for option in order]
                    shares = np.array(
                        [[float(r[c]) if r[c] not in (None, "-") else np.nan for c in columns] for r in data]
                    )
                    shares = shares / shares.sum(axis=1, keepdims=True)
                    mean = shares @ np.array(scores)
                    variance = (shares * (np.array(scores)[None, :] - mean[:, None]) ** 2).sum(axis=1)
                    ratios[scale][label.split(" - ")[0]] = float(np.nanmedian(variance / (mean * (10 - mean))))
    return ratios


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else WORKBOOK
    for scale, by_question in item_ratios(path).items():
        values = np.array(list(by_question.values()))
        largest = max(by_question, key=by_question.__getitem__)
        print(
            f"{scale}: {len(values)} items; median item {np.median(values):.3f}; "
            f"largest {values.max():.3f} ({largest}); variance_ratio (largest, rounded up) "
            f"{math.ceil(values.max() * 100) / 100:.2f}"
        )


if __name__ == "__main__":
    main()
