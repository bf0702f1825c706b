"""Structural rules every published factor, barrier and index row must obey, as pure functions that return the
offending rows (empty when the table is sound). The blocking asset checks in assets/index/assets.py run them."""

import polars as pl


def intervals_out_of_order(frame: pl.DataFrame, point: str, low: str, high: str) -> pl.DataFrame:
    """Rows with a point estimate whose interval is missing or does not satisfy low <= point <= high."""
    scored = frame.filter(pl.col(point).is_not_null())
    return scored.filter(
        pl.col(low).is_null() | pl.col(high).is_null() | (pl.col(low) > pl.col(point)) | (pl.col(point) > pl.col(high))
    )


def score_intervals_out_of_order(frame: pl.DataFrame) -> pl.DataFrame:
    """factor_scores / barrier_scores rows violating score_lo <= score <= score_hi."""
    return intervals_out_of_order(frame, "score", "score_lo", "score_hi")


def index_intervals_out_of_order(index: pl.DataFrame) -> pl.DataFrame:
    """readiness_index rows violating index_lo <= index_score <= index_hi or rank_lo <= rank_in_group <= rank_hi."""
    return pl.concat(
        [
            intervals_out_of_order(index, "index_score", "index_lo", "index_hi"),
            intervals_out_of_order(index, "rank_in_group", "rank_lo", "rank_hi"),
        ]
    ).unique(["org_code", "survey_year"], maintain_order=True)


def ranked_without_intervals(index: pl.DataFrame) -> pl.DataFrame:
    """Ranked trusts lacking an index interval or a rank interval, and unranked trusts that carry a rank."""
    interval = ("index_score", "index_lo", "index_hi", "rank_in_group", "rank_lo", "rank_hi")
    return index.filter(
        (pl.col("ranked") & pl.any_horizontal(pl.col(c).is_null() for c in interval))
        | (~pl.col("ranked") & pl.any_horizontal(pl.col(c).is_not_null() for c in interval[3:]))
    )


def ranks_outside_group(index: pl.DataFrame) -> pl.DataFrame:
    """Ranks (and rank bounds) outside 1..n_in_group, or n_in_group not the number of ranked trusts in the group."""
    ranked = index.filter("ranked").with_columns(counted=pl.len().over("survey_year", "benchmarking_group"))
    return ranked.filter(
        pl.any_horizontal(
            ~pl.col(c).is_between(1, pl.col("n_in_group")) for c in ("rank_in_group", "rank_lo", "rank_hi")
        )
        | (pl.col("n_in_group") != pl.col("counted"))
    ).drop("counted")


def coverage_outside_unit_interval(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("coverage").is_null() | ~pl.col("coverage").is_between(0, 1))


def unmeasured_with_score(frame: pl.DataFrame) -> pl.DataFrame:
    """factor_scores / barrier_scores rows where a component without data (or below the minimum coverage) carries a
    score (e.g. a 0 filled in), or a measured component has none: status, coverage and score must agree."""
    unmeasured = (pl.col("status") != "measured") | (pl.col("coverage") == 0) | (pl.col("n_indicators") == 0)
    return frame.filter(
        (unmeasured & (pl.col("score").is_not_null() | pl.col("score_lo").is_not_null()))
        | (~unmeasured & pl.col("score").is_null())
    )


def unmeasured_index_with_score(index: pl.DataFrame) -> pl.DataFrame:
    """readiness_index rows without any measured factor that still carry an index (e.g. a 0 filled in)."""
    return index.filter(((pl.col("n_factors") == 0) | (pl.col("coverage") == 0)) & pl.col("index_score").is_not_null())


def barrier_factor_copies(
    factor_scores: pl.DataFrame, barrier_scores: pl.DataFrame, ceiling: float, min_trusts: int
) -> pl.DataFrame:
    """(survey_year, benchmarking_group, barrier, factor_id, r, n) for every barrier whose scores correlate above
    `ceiling` (Pearson, trusts with both scores) with a factor's scores within a benchmarking group and year of at
    least `min_trusts` trusts: the barrier would be a copy of the factor under another name."""
    keys = ["org_code", "survey_year", "benchmarking_group"]
    pairs = (
        barrier_scores.filter(pl.col("score").is_not_null())
        .select(*keys, "barrier", barrier_score="score")
        .join(factor_scores.filter(pl.col("score").is_not_null()).select(*keys, "factor_id", "score"), on=keys)
    )
    return (
        pairs.group_by("survey_year", "benchmarking_group", "barrier", "factor_id")
        .agg(r=pl.corr("barrier_score", "score"), n=pl.len())
        .filter((pl.col("n") >= min_trusts) & (pl.col("r") > ceiling))
        .sort("survey_year", "benchmarking_group", "barrier", "factor_id")
    )
