"""Measure how much of the largest possible sampling variance a 0-10 item score actually has, per answer scale.

For an item mean m on the 0-10 scale, m(10 - m) is the largest variance any respondent-level score with that
mean can have (Bhatia-Davis). The real option distributions in `staff_survey_responses` (every option of every
question, 2024 offline) and each option's 0-10 score in data/reference/question_catalogue.csv give the actual
variance of each organisation's respondent scores. Per question the script takes the median over organisations of
(observed variance) / m(10 - m); per answer scale the largest of those medians, rounded up to two decimals, is the
`variance_ratio` of data/reference/response_scale_variance.csv (the Monte Carlo uses variance_ratio * m(10 - m) / n
as the squared standard error of score_0_10). A scale whose options score only 0 or 10 has a ratio of exactly 1.

Run after `uv run nhs-readiness run`: uv run python bench/score_variance_ratio.py [--warehouse PATH] [--year 2024]
"""

import argparse
import math

import duckdb
import polars as pl

from assets.staged.staff_survey.scoring import catalogue, option_scoring
from pipeline.settings import default_warehouse_path


def scale_ratios(responses: pl.DataFrame) -> pl.DataFrame:
    """Per answer scale: items measured, the median item's ratio, the largest and which item has it."""
    scales = catalogue().filter("scored").select("question_id", "response_scale")
    scored = responses.join(
        option_scoring().filter(pl.col("option_score").is_not_null()), on=["question_id", "option_label"]
    ).join(scales, on="question_id")
    keys = ["org_code", "question_id", "response_scale"]
    share = pl.col("pct") / pl.col("pct").sum().over(keys)
    per_org = (
        scored.filter(pl.col("pct").is_not_null())
        .with_columns(share=share)
        .with_columns(mean=(pl.col("share") * pl.col("option_score")).sum().over(keys))
        .group_by(keys)
        .agg(
            mean=pl.col("mean").first(),
            variance=(pl.col("share") * (pl.col("option_score") - pl.col("mean")) ** 2).sum(),
        )
        .filter((pl.col("mean") > 0) & (pl.col("mean") < 10))
    )
    per_item = per_org.group_by("question_id", "response_scale").agg(
        ratio=(pl.col("variance") / (pl.col("mean") * (10 - pl.col("mean")))).median()
    )
    return (
        per_item.sort("ratio", descending=True)
        .group_by("response_scale")
        .agg(
            items=pl.len(),
            median_item=pl.col("ratio").median(),
            largest=pl.col("ratio").first(),
            largest_item=pl.col("question_id").first(),
        )
        .with_columns(variance_ratio=pl.col("largest").map_elements(lambda r: math.ceil(r * 100 - 1e-9) / 100))
        .sort("response_scale")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", default=default_warehouse_path())
    parser.add_argument("--year", type=int, default=2024)
    args = parser.parse_args()
    con = duckdb.connect(args.warehouse, read_only=True)
    try:
        responses = con.sql(
            "SELECT org_code, question_id, option_label, pct FROM staff_survey_responses WHERE survey_year = ?",
            params=[args.year],
        ).pl()
    finally:
        con.close()
    with pl.Config(tbl_rows=50, tbl_cols=10, tbl_width_chars=160):
        print(scale_ratios(responses))


if __name__ == "__main__":
    main()
