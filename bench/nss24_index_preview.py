"""Preview of the index method on REAL 2024 data until the staged tables land on this branch.

Reads the real NSS24 organisational workbook directly, rebuilds each framework question's 0-10 item score from
its option percentages (data-sources.md §3.8: 0/2.5/5/7.5/10, reversed for negatively worded items; Yes/No 0/10;
appraisal 10/5/0; for q14b/q14c, whose official coding is not published, 10 x the share answering 'Never'), and
runs the staff-survey part of the method (no performance measures: they are not on this branch). It prints
group sizes, coverage, interval widths, Cronbach's alpha, the factor correlations and the rank sensitivity that
docs/methodology.md quotes. This minimal reader is not the pipeline's parser; once the staged tables exist the
integrator reruns bench/index_montecarlo.py --warehouse on them instead.

Run: uv run python bench/nss24_index_preview.py
"""

import re
import time

import fastexcel
import polars as pl

from assets.index.readiness import readiness_tables
from assets.index.sensitivity import rank_sensitivity
from assets.index.validity import factor_alphas, factor_correlations
from assets.indicators.build import build_indicators
from assets.indicators.framework import SURVEY_SOURCE, load_framework
from pipeline.settings import SNAPSHOT_DIR

WORKBOOK = SNAPSHOT_DIR / "nhs-staff-survey-nss24-workbooks" / "NSS24 detailed spreadsheets organisational results.xlsx"
FIVE_POINT = {
    "% Strongly disagree": 0.0,
    "% Disagree": 2.5,
    "% Neither agree nor disagree": 5.0,
    "% Agree": 7.5,
    "% Strongly agree": 10.0,
    "% Never": 0.0,
    "% Rarely": 2.5,
    "% Sometimes": 5.0,
    "% Often": 7.5,
    "% Always": 10.0,
    "% Very dissatisfied": 0.0,
    "% Dissatisfied": 2.5,
    "% Neither satisfied nor dissatisfied": 5.0,
    "% Satisfied": 7.5,
    "% Very satisfied": 10.0,
}
REVERSED = {"q5a", "q5c", "q12a", "q12b", "q12c", "q12d", "q12e", "q12f", "q12g", "q26a", "q26b", "q26c"}
SPECIAL = {
    "q11c": {"% Yes": 0.0, "% No": 10.0},
    "q16b": {"% Yes": 0.0, "% No": 10.0},
    "q23b": {"% Yes, definitely": 10.0, "% Yes, to some extent": 5.0, "% No": 0.0},
    "q23c": {"% Yes, definitely": 10.0, "% Yes, to some extent": 5.0, "% No": 0.0},
    "q14b": {"% Never": 10.0, "% 1 to 2": 0.0, "% 3 to 5": 0.0, "% 6 to 10": 0.0, "% More than 10": 0.0},
    "q14c": {"% Never": 10.0, "% 1 to 2": 0.0, "% 3 to 5": 0.0, "% 6 to 10": 0.0, "% More than 10": 0.0},
}


def _number(cell: object) -> float | None:
    try:
        return float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # '-' marks a suppressed cell


def read_items(questions: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """staff_survey_items and survey_organisations shapes for 2024, for the given questions only."""
    reader = fastexcel.read_excel(WORKBOOK)
    items, organisations = [], {}
    for sheet in reader.sheet_names[1:15]:
        rows = reader.load_sheet(sheet, header_row=None).to_polars().rows()
        labels, headers, data = rows[0], rows[4], [r for r in rows[5:] if r[0]]
        for row in data:
            organisations[row[0]] = row[2]
        for start, label in enumerate(labels):
            match = re.match(r"^(Q\d+[a-z]?) - ", label or "")
            if not match or match.group(1).lower() not in questions:
                continue
            question = match.group(1).lower()
            end = next(i for i in range(start, len(headers)) if str(headers[i]).startswith("Base"))
            scoring = SPECIAL.get(question) or {
                option: 10.0 - score if question in REVERSED else score for option, score in FIVE_POINT.items()
            }
            columns = {headers[i]: i for i in range(start, end) if headers[i] in scoring}
            for row in data:
                shares = {option: _number(row[i]) for option, i in columns.items()}
                total = sum(v for v in shares.values() if v is not None)
                score = None
                if total > 0 and None not in shares.values():
                    score = sum(scoring[o] * v for o, v in shares.items()) / total  # type: ignore[operator]
                items.append((row[0], 2024, question, score, None, None, _number(row[end])))
    frame = pl.DataFrame(
        items,
        schema=["org_code", "survey_year", "question_id", "score_0_10", "pct_favourable", "pct_unfavourable", "base"],
        orient="row",
        schema_overrides={"pct_favourable": pl.Float64, "pct_unfavourable": pl.Float64},
    ).with_columns(value_source=pl.lit("nss24 workbook preview"))
    orgs = pl.DataFrame(
        {"org_code": list(organisations), "survey_year": 2024, "benchmarking_group": list(organisations.values())}
    )
    return frame, orgs


def main() -> None:
    pl.Config.set_tbl_rows(40)
    framework = load_framework()
    survey_only = framework.with_indicators(framework.indicators.filter(pl.col("source") == SURVEY_SOURCE))
    questions = set(survey_only.indicators["question_id"].to_list())
    items, orgs = read_items(questions)
    empty_scores = pl.DataFrame(
        schema={"org_code": pl.String, "survey_year": pl.Int64, "measure_id": pl.String, "score": pl.Float64}
    ).with_columns(base=pl.lit(None, dtype=pl.Float64))
    empty_performance = pl.DataFrame(
        schema={"org_code": pl.String, "financial_year": pl.String, "measure": pl.String, "value": pl.Float64}
    ).with_columns(denominator=pl.lit(None, dtype=pl.Float64))
    indicators = build_indicators(survey_only, items, empty_scores, empty_performance, orgs)
    started = time.perf_counter()
    tables = readiness_tables(indicators, survey_only)
    print(f"readiness_tables on real 2024 items: {time.perf_counter() - started:.1f} s")
    index = tables.readiness_index
    print(
        index.group_by("benchmarking_group")
        .agg(
            trusts=pl.len(),
            ranked=pl.col("ranked").sum(),
            median_coverage=pl.col("coverage").median(),
            median_rank_interval=(pl.col("rank_hi") - pl.col("rank_lo")).median(),
            max_rank_interval=(pl.col("rank_hi") - pl.col("rank_lo")).max(),
        )
        .sort("trusts", descending=True)
    )
    print(index["suggested_support_type"].value_counts().sort("count", descending=True))
    print(factor_alphas(indicators, survey_only).select("subject", "estimate", "n", "note").sort("subject"))
    correlations = factor_correlations(tables.factor_scores, 0.9, 0.95)
    print(correlations.select("subject", "subject_b", "estimate", "n").sort("estimate", descending=True))
    sensitivity = rank_sensitivity(indicators, survey_only)
    print(sensitivity.group_by("scenario").agg(pl.col("scenario_median_abs_rank_shift").first()).sort("scenario"))
    print("median over trusts of trust_median_abs_rank_shift:", sensitivity["trust_median_abs_rank_shift"].median())


if __name__ == "__main__":
    main()
