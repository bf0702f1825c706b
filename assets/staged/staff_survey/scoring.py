"""Harmonise question numbers and turn response-option percentages into item statistics.

Every analytical choice comes from data/reference/: the question crosswalk (year → 2024 numbering), the
question catalogue (polarity, favourable / unfavourable options, 0–10 option scores) and the sub-score
item map used by the scoring validity check.
"""

from functools import cache

import numpy as np
import polars as pl

from pipeline.reference import read_reference

ITEM_KEYS = ["org_code", "question_id"]


@cache
def crosswalk() -> pl.DataFrame:
    """survey_year, source_question_id, question_id (2024 numbering; null when there is no equivalent)."""
    return read_reference("staff_survey_question_crosswalk").with_columns(
        pl.col("survey_year").cast(pl.Int32), pl.col("comparable_with_2024") == "true"
    )


@cache
def catalogue() -> pl.DataFrame:
    return read_reference("question_catalogue").with_columns(pl.col("scored") == "true")


@cache
def option_scoring() -> pl.DataFrame:
    """One row per question and option: its 0–10 score (null when excluded or unscored) and its side."""
    rows = []
    for q in catalogue().iter_rows(named=True):
        scores = dict(part.split("=", 1) for part in (q["option_scores"] or "").split("|") if part)
        favourable = set(filter(None, (q["favourable_options"] or "").split("|")))
        unfavourable = set(filter(None, (q["unfavourable_options"] or "").split("|")))
        for option in (
            set(scores) | favourable | unfavourable | set(filter(None, (q["excluded_options"] or "").split("|")))
        ):
            rows.append(
                {
                    "question_id": q["question_id"],
                    "option_label": option,
                    "option_score": float(scores[option]) if option in scores else None,
                    "favourable": option in favourable,
                    "unfavourable": option in unfavourable,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "question_id": pl.String,
            "option_label": pl.String,
            "option_score": pl.Float64,
            "favourable": pl.Boolean,
            "unfavourable": pl.Boolean,
        },
    )


def harmonise(frame: pl.DataFrame, survey_year: int) -> tuple[pl.DataFrame, list[str]]:
    """Add `question_id` (2024 numbering) to a frame with `source_question_id`; drop and list what has no
    2024 equivalent or is unknown to the crosswalk for that year."""
    year_map = crosswalk().filter(pl.col("survey_year") == survey_year).select("source_question_id", "question_id")
    joined = frame.join(year_map, on="source_question_id", how="left")
    dropped = sorted(joined.filter(pl.col("question_id").is_null())["source_question_id"].unique().to_list())
    return joined.filter(pl.col("question_id").is_not_null()), dropped


def unscored_options(responses: pl.DataFrame) -> pl.DataFrame:
    """Options of scored questions that the catalogue does not know (a changed scale would be mis-scored)."""
    scored = catalogue().filter("scored").select("question_id")
    known = option_scoring().select("question_id", "option_label")
    return (
        responses.join(scored, on="question_id")
        .join(known, on=["question_id", "option_label"], how="anti")
        .unique(["question_id", "option_label"])
    )


def items_from_responses(responses: pl.DataFrame) -> pl.DataFrame:
    """Item statistics from complete option breakdowns (workbook rows).

    pct_favourable / pct_unfavourable: sums of the published option percentages on each side (share of all
    responses, including any "Don't know"). score_0_10 = Σ(pct × score) / Σ pct over scored options.
    """
    scored = responses.join(option_scoring(), on=["question_id", "option_label"], how="left")
    is_scored_question = pl.col("question_id").is_in(catalogue().filter("scored")["question_id"].implode())
    all_null = pl.col("pct").is_null().all()
    weight = pl.when(pl.col("option_score").is_not_null()).then(pl.col("pct"))
    return scored.group_by(ITEM_KEYS).agg(
        pl.col("source_question_id").first(),
        pl.col("base").first(),
        pl.when(all_null | ~is_scored_question.first())
        .then(None)
        .otherwise(pl.col("pct").filter(pl.col("favourable").fill_null(False)).sum())
        .alias("pct_favourable"),
        pl.when(all_null | ~is_scored_question.first())
        .then(None)
        .otherwise(pl.col("pct").filter(pl.col("unfavourable").fill_null(False)).sum())
        .alias("pct_unfavourable"),
        pl.when(all_null | ~is_scored_question.first() | (weight.sum() <= 0))
        .then(None)
        .otherwise((weight * pl.col("option_score")).sum() / weight.sum())
        .alias("score_0_10"),
    )


def items_from_option_sums(sums: pl.DataFrame) -> pl.DataFrame:
    """Item statistics from published sums of option subsets (the trust-level extract).

    `sums` has org_code, question_id, extract_column, options (list of option labels) and pct. With the total
    of all options being 100, a statistic is recovered exactly when its option vector is a linear combination
    of the published subsets (e.g. q12b favourable = 100 − sometimes_rate); otherwise it stays null.
    """
    scales = read_reference("response_scales")
    scale_of = dict(catalogue().select("question_id", "response_scale").iter_rows())
    scoring = option_scoring()
    parts = []
    for question in sorted(sums["question_id"].unique().to_list()):
        of_question = sums.filter(pl.col("question_id") == question)
        labels = (
            scales.filter(pl.col("scale_id") == scale_of[question])
            .sort(pl.col("option_order").cast(pl.Int32))["option_label"]
            .to_list()
        )
        subsets = of_question.unique("extract_column").sort("extract_column")
        columns = subsets["extract_column"].to_list()
        basis = np.vstack(
            [np.ones(len(labels))] + [np.array([float(o in opts) for o in labels]) for opts in subsets["options"]]
        )
        wide = of_question.pivot(on="extract_column", index="org_code", values="pct")
        stats = {}
        for stat, target in _targets(question, labels, scoring).items():
            coefficients = _combination(basis, target)
            if coefficients is None:
                stats[stat] = pl.lit(None, dtype=pl.Float64)
                continue
            used = [c for c, k in zip(columns, coefficients[1:], strict=True) if abs(k) > 1e-12]
            value = pl.lit(100.0 * coefficients[0])
            for column, k in zip(columns, coefficients[1:], strict=True):
                if abs(k) > 1e-12:
                    value = value + k * pl.col(column)
            # round away floating-point noise such as -3.5e-14 left by the linear combination
            stats[stat] = pl.when(pl.all_horizontal(pl.col(c).is_not_null() for c in used)).then(value.round(9))
        parts.append(wide.select("org_code", question_id=pl.lit(question), **stats))
    schema = {"org_code": pl.String, "question_id": pl.String}
    schema |= {s: pl.Float64 for s in ("pct_favourable", "pct_unfavourable", "score_0_10")}
    return pl.concat([p.cast(schema) for p in parts]) if parts else pl.DataFrame(schema=schema)


def _targets(question: str, labels: list[str], scoring: pl.DataFrame) -> dict[str, np.ndarray | None]:
    rows = {r["option_label"]: r for r in scoring.filter(pl.col("question_id") == question).iter_rows(named=True)}
    favourable = np.array([float(bool(rows.get(o, {}).get("favourable"))) for o in labels])
    unfavourable = np.array([float(bool(rows.get(o, {}).get("unfavourable"))) for o in labels])
    scores = [rows.get(o, {}).get("option_score") for o in labels]
    # the score is linear in the option percentages only when every option is scored (denominator 100)
    score = np.array(scores, dtype=float) / 100 if all(v is not None for v in scores) else None
    return {
        "pct_favourable": favourable if favourable.any() else None,
        "pct_unfavourable": unfavourable if unfavourable.any() else None,
        "score_0_10": score,
    }


def _combination(basis: np.ndarray, target: np.ndarray | None) -> np.ndarray | None:
    """Coefficients c with c · basis == target (row 0 of basis is the all-options total), or None."""
    if target is None:
        return None
    coefficients, *_ = np.linalg.lstsq(basis.T, target, rcond=None)
    if not np.allclose(basis.T @ coefficients, target, atol=1e-9):
        return None
    return coefficients


@cache
def subscore_items() -> pl.DataFrame:
    return read_reference("survey_subscore_items").with_columns(pl.col("tested") == "true")


def subscore_rebuild(items: pl.DataFrame, scores: pl.DataFrame) -> pl.DataFrame:
    """Per sub-score: the official score against the mean of its items' score_0_10, over organisations
    where every item has a score. Columns: measure_id, tested, organisations, mean_abs_diff, max_abs_diff."""
    mapping = subscore_items()
    expected_items = mapping.group_by("measure_id").agg(pl.len().alias("n_items"))
    rebuilt = (
        items.select("org_code", "survey_year", "question_id", "score_0_10")
        .join(mapping.select("measure_id", "question_id"), on="question_id")
        .group_by("org_code", "survey_year", "measure_id")
        .agg(pl.col("score_0_10").mean().alias("rebuilt"), pl.col("score_0_10").count().alias("n_scored"))
        .join(expected_items, on="measure_id")
        .filter(pl.col("n_scored") == pl.col("n_items"))
    )
    compared = rebuilt.join(
        scores.select("org_code", "survey_year", "measure_id", "score"), on=["org_code", "survey_year", "measure_id"]
    ).filter(pl.col("score").is_not_null())
    return (
        compared.group_by("measure_id")
        .agg(
            pl.len().alias("organisations"),
            (pl.col("rebuilt") - pl.col("score")).abs().mean().alias("mean_abs_diff"),
            (pl.col("rebuilt") - pl.col("score")).abs().max().alias("max_abs_diff"),
        )
        .join(mapping.group_by("measure_id").agg(pl.col("tested").first()), on="measure_id")
        .sort("measure_id")
    )
