"""What the report draws, read from the published DuckDB file, so the report shows exactly what was published.

Pure apart from reading that file: the frames go to `build_report` unchanged, except the validity frames, which
are shaped here from `index_validity` (its outcome associations) and `performance_annual` (the per-trust points).
"""

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from assets.indicators.build import financial_years
from assets.indicators.framework import Framework, load_framework
from assets.publish.charts.settings import key_measure
from assets.publish.charts.wording import trust_names
from assets.publish.report.build import ReportInputs

OUTCOME_ASSOCIATION = "outcome_association"


def latest_ranked_year(readiness_index: pl.DataFrame) -> int:
    """The newest survey year in which any trust is ranked: earlier years may rest on too few questions to rank.
    A build in which no year is ranked (offline `--years 2021-2023`) reports its newest year, every trust unranked."""
    if readiness_index.is_empty():
        raise ValueError("readiness_index is empty, so there is no report to build")
    ranked = readiness_index.filter(pl.col("rank_in_group").is_not_null())["survey_year"]
    return int((ranked if not ranked.is_empty() else readiness_index["survey_year"]).max())  # type: ignore[arg-type]


def validity_frames(
    index_validity: pl.DataFrame,
    readiness_index: pl.DataFrame,
    performance_annual: pl.DataFrame,
    survey_year: int,
    framework: Framework,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(summary, points) for charts.validity: each estimable outcome association of the survey year (Pearson r,
    its interval and n, as index_validity publishes them) and, per ranked trust, the published index against the
    outcome's full financial year (the years and months rule of the index method, data/framework/)."""
    summary = index_validity.filter(
        (pl.col("validity_check") == OUTCOME_ASSOCIATION)
        & (pl.col("period") == str(survey_year))
        & (pl.col("n") > 0)
        & pl.col("estimate").is_not_null()
    ).select(
        outcome="subject_b",
        n="n",
        coefficient="estimate",
        ci_lo="ci_lo",
        ci_hi="ci_hi",
        against="subject",
        note="note",
    )
    outcomes = financial_years(performance_annual, framework).filter(
        (pl.col("survey_year") == survey_year) & pl.col("measure").is_in(summary["outcome"].implode())
    )
    points = (
        readiness_index.filter((pl.col("survey_year") == survey_year) & pl.col("rank_in_group").is_not_null())
        .select("org_code", "index_score")
        .join(outcomes.select("org_code", outcome="measure", outcome_value="value"), on="org_code")
        .sort("outcome", "org_code")
    )
    return summary.sort("outcome"), points


def validity_notes(summary: pl.DataFrame, financial_year: str | None, labels: dict[str, str]) -> tuple[str, ...]:
    """Subtitle lines saying what the validity headings and points are: they are not quite the same estimate."""
    rebuilt = summary.filter(pl.col("against") == "readiness_index_without_outcome")["outcome"].to_list()
    lines = ["Headings: Pearson r of the index with the outcome scored within benchmarking group (index_validity)."]
    if rebuilt:
        outcomes = " and ".join(labels.get(outcome, outcome) for outcome in rebuilt)
        lines.append(f"For {outcomes}, r uses the index rebuilt without that outcome's own indicator.")
    year = f", financial year {financial_year}" if financial_year else ""
    lines.append(f"Points: the published index against the outcome{year}.")
    return tuple(lines)


def _table(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    return con.execute(sql, params).pl()


def read_report_inputs(database: Path, survey_year: int | None = None) -> ReportInputs:
    """Every frame the report needs, for `survey_year` (default: the latest year with ranked trusts), read from the
    published file in one read-only connection. The build date is the published file's, not today's."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        index = _table(con, "FROM readiness_index")
        year = survey_year if survey_year is not None else latest_ranked_year(index)
        if index.filter(pl.col("survey_year") == year).is_empty():
            raise ValueError(f"{database.name}: readiness_index has no rows for survey year {year}")
        framework = load_framework()
        index_validity = _table(con, "FROM index_validity")
        summary, points = validity_frames(
            index_validity, index, _table(con, "FROM performance_annual"), year, framework
        )
        measures = _table(con, "SELECT measure, label, unit, improvement_direction FROM performance_measures")
        (built_at,) = con.sql("SELECT max(built_at) FROM build_info").fetchone() or (None,)
        (financial_year,) = con.execute(
            "SELECT any_value(financial_year) FROM performance_annual WHERE financial_year_start = ?",
            [year + framework.settings.financial_year_offset],
        ).fetchone() or (None,)
        return ReportInputs(
            survey_year=year,
            readiness_index=index,
            factor_scores=_table(con, "FROM factor_scores"),
            readiness_trend=_table(con, "FROM readiness_trend"),
            barrier_scores=_table(con, "FROM barrier_scores"),
            names=trust_names(
                _table(con, "SELECT org_code, org_name FROM organisations"),
                _table(con, "SELECT org_code, survey_year, org_name FROM survey_organisations"),
                year,
            ),
            built_on=built_at.date() if built_at else date.today(),
            staff_survey_items=_table(
                con,
                "FROM staff_survey_items WHERE survey_year = ? AND question_id = ?",
                [year, key_measure("funnel").question_id],
            ),
            spc_monthly=_table(
                con, "SELECT org_code, measure, period_month, value, mean, lpl, upl, point_type FROM spc_monthly"
            ),
            performance_measures=measures,
            indicators=_table(
                con,
                "SELECT org_code, survey_year, indicator_id, raw_value, norm_score, value_type, benchmarking_group "
                "FROM indicators WHERE survey_year = ?",
                [year],
            ),
            indicator_catalogue=_table(
                con,
                "SELECT indicator_id, label, question_text, source, question_id, measure, factor_id, factor_name, "
                "barrier, polarity, weight, periods_available, rationale FROM indicator_catalogue",
            ),
            # a year with no estimable association (no ranked trusts, or no outcome data) has no validity chart
            validity_summary=summary.drop("against", "note") if not points.is_empty() else None,
            validity_points=points if not points.is_empty() else None,
            trust_context=_table(
                con,
                "SELECT org_code, dataset, measure, period, value, unit, publisher, source_file, source_row "
                "FROM trust_context",
            ),
            index_beside_oversight=_table(con, "FROM index_beside_oversight WHERE survey_year = ?", [year]),
            index_periods=_table(con, "FROM index_periods"),
            index_validity=index_validity,
            validity_notes=validity_notes(
                summary, financial_year, dict(measures.select("measure", "label").iter_rows())
            ),
        )
    finally:
        con.close()
