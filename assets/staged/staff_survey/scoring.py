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

    `sums` has org_code, question_id, options (list of option labels) and pct. With the total of all options
    being 100, a statistic is recovered exactly when its option vector lies in the span of the known subsets;
    otherwise it stays null (never estimated).
    """
    scales = read_reference("response_scales")
    scale_of = dict(catalogue().select("question_id", "response_scale").iter_rows())
    scoring = option_scoring()
    targets: dict[str, dict[str, np.ndarray | None]] = {}
    options_of: dict[str, list[str]] = {}
    for question in sums["question_id"].unique().to_list():
        options = scales.filter(pl.col("scale_id") == scale_of[question]).sort(pl.col("option_order").cast(pl.Int32))
        labels = options["option_label"].to_list()
        rows = {r["option_label"]: r for r in scoring.filter(pl.col("question_id") == question).iter_rows(named=True)}
        options_of[question] = labels
        fav = np.array([1.0 if rows.get(o, {}).get("favourable") else 0.0 for o in labels])
        unfav = np.array([1.0 if rows.get(o, {}).get("unfavourable") else 0.0 for o in labels])
        score_values = [rows.get(o, {}).get("option_score") for o in labels]
        # the score is a plain linear statistic only when every option is scored (the denominator is then 100)
        score = np.array(score_values, dtype=float) / 100 if all(v is not None for v in score_values) else None
        targets[question] = {
            "pct_favourable": fav if fav.any() else None,
            "pct_unfavourable": unfav if unfav.any() else None,
            "score_0_10": score,
        }

    out = []
    for (org, question), group in sums.group_by(["org_code", "question_id"], maintain_order=True):
        labels = options_of[question]
        vectors = [np.ones(len(labels))]
        values = [100.0]
        for options, pct in zip(group["options"].to_list(), group["pct"].to_list(), strict=True):
            if pct is None:
                continue
            vectors.append(np.array([1.0 if o in options else 0.0 for o in labels]))
            values.append(pct)
        basis = np.vstack(vectors)
        row = {"org_code": org, "question_id": question}
        for stat, target in targets[question].items():
            row[stat] = _solve(basis, np.array(values), target) if len(values) > 1 else None
        out.append(row)
    return pl.DataFrame(
        out,
        schema={
            "org_code": pl.String,
            "question_id": pl.String,
            "pct_favourable": pl.Float64,
            "pct_unfavourable": pl.Float64,
            "score_0_10": pl.Float64,
        },
    )


def _solve(basis: np.ndarray, values: np.ndarray, target: np.ndarray | None) -> float | None:
    """target · p, when target is a linear combination of the known subset vectors (else None)."""
    if target is None:
        return None
    coefficients, *_ = np.linalg.lstsq(basis.T, target, rcond=None)
    if not np.allclose(basis.T @ coefficients, target, atol=1e-9):
        return None
    return float(coefficients @ values)


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
