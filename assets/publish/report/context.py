"""The trust page's context beside the index, the engagement-agreement sentences and the uncovered periods.

Pure Polars: frames from the published file in (trust_context, index_beside_oversight, index_validity,
index_periods), rows for the templates out. Only published values are shown; where a trust has none, the section
says so rather than show a guess.
"""

from typing import Any

import polars as pl

# (section heading, dataset, measure, label): what the trust page shows of trust_context, in this order
CONTEXT_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    ("NHS Oversight Framework", "nof_trust_data", "nof_segment", "Overall segment (1 best to 4)"),
    ("NHS Oversight Framework", "nof_league_table", "league_rank", "Position in the acute trust league table"),
    ("NHS Oversight Framework", "nof_league_table", "league_segment", "League table segment (1 best to 4)"),
    ("Digital maturity", "dma", "dma_overall", "Overall"),
    ("Digital maturity", "dma", "dma_well_led", "Well led"),
    ("Digital maturity", "dma", "dma_smart_foundations", "Smart foundations"),
    ("Digital maturity", "dma", "dma_safe_practice", "Safe practice"),
    ("Digital maturity", "dma", "dma_support_workforce", "Support people (workforce)"),
    ("Digital maturity", "dma", "dma_empower_people", "Empower people"),
    ("Digital maturity", "dma", "dma_improve_care", "Improve care"),
    ("Digital maturity", "dma", "dma_healthy_populations", "Healthy populations"),
    ("Patient flow", "kh03_beds", "bed_occupancy", "General and acute bed occupancy"),
    ("Patient flow", "delayed_discharge", "delayed_bed_days", "Bed days lost to delayed discharge"),
    ("Patient flow", "derived", "delayed_bed_days_per_bed", "Delayed-discharge bed days per bed"),
    ("Finance and estates", "nof_trust_data", "planned_surplus_deficit_pct", "Planned surplus (+) or deficit (-)"),
    ("Finance and estates", "nof_trust_data", "variance_to_financial_plan_pct", "Variance to financial plan"),
    ("Finance and estates", "eric", "estates_backlog_total", "Estates maintenance backlog"),
)
SECTIONS = tuple(dict.fromkeys(section for section, *_ in CONTEXT_MEASURES))


def context_codes(oversight: pl.DataFrame | None, survey_year: int) -> dict[str, str]:
    """Survey code -> the code trust_context uses for the trust, where the Oversight Framework's legal code is
    published (R1F for the R1F1 sector); a code absent here is its own context code."""
    if oversight is None:
        return {}
    codes: dict[str, str | None] = {}
    for org_code, legal in (
        oversight.filter(pl.col("survey_year") == survey_year).select("org_code", "oversight_org_code").iter_rows()
    ):
        codes.setdefault(org_code, legal)
    return {org_code: str(legal) for org_code, legal in codes.items() if legal is not None}


def context_code(oversight: pl.DataFrame | None, org_code: str, survey_year: int) -> str:
    """The code trust_context uses for the trust: the Oversight Framework's legal code where the two differ (R1F
    for the R1F1 sector), else the survey's code."""
    return context_codes(oversight, survey_year).get(org_code, org_code)


def format_value(value: float, unit: str) -> str:
    if unit.startswith("fraction"):
        return f"{value:.1%}"
    if unit.startswith(("rank", "segment")):
        return f"{value:.0f}"
    if unit == "percent of income":
        return f"{value:+.1f}% of income"
    if unit == "£ million":
        return f"£{value:,.1f} million"
    if unit in ("bed days", "patients", "beds"):
        return f"{value:,.0f} {unit}"
    return f"{value:.2f} ({unit})" if unit.startswith("score") else f"{value:.2f} {unit}"


SHOWN_COLUMNS = ("label", "value", "unit", "period", "publisher", "source_file", "source_row")


def context_sections_by_code(trust_context: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """trust_context_sections of every code in trust_context at once; a code absent here has no published value
    (`no_context_sections`)."""
    wanted = pl.DataFrame(
        [(s, d, m, label, order) for order, (s, d, m, label) in enumerate(CONTEXT_MEASURES)],
        schema=["section", "dataset", "measure", "label", "order"],
        orient="row",
    )
    rows = (
        trust_context.filter(pl.col("value").is_not_null())
        .join(wanted, on=["dataset", "measure"])
        .sort("org_code", "order", maintain_order=True)
        .select("org_code", "section", *SHOWN_COLUMNS)
    )
    by_code: dict[str, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        org_code, section = row.pop("org_code"), row.pop("section")
        sections = by_code.setdefault(org_code, no_context_sections())
        sections[SECTIONS.index(section)]["rows"].append(
            {**row, "shown": format_value(float(row["value"]), str(row["unit"]))}
        )
    return by_code


def no_context_sections() -> list[dict[str, Any]]:
    return [{"heading": section, "rows": []} for section in SECTIONS]


def trust_context_sections(trust_context: pl.DataFrame, code: str) -> list[dict[str, Any]]:
    """Per section: its rows (label, value as shown, raw value, unit, period, publisher, source row) or, where the
    trust has no published value in that section, an empty list the page states as such."""
    return context_sections_by_code(trust_context.filter(pl.col("org_code") == code)).get(code) or no_context_sections()


def _group(subject: str) -> str:
    return subject.split(" | ", 1)[1] if " | " in subject else ""


def engagement_agreement(
    index_validity: pl.DataFrame, survey_year: int, labels: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Per benchmarking group: how far the index agrees with the official staff engagement score (Spearman, from
    `official_score_agreement`) and what it adds beyond it for each outcome (`incremental_validity`, partial r),
    as published, with a sentence in plain words."""
    year = index_validity.filter(pl.col("period") == str(survey_year))
    agreement = year.filter(
        (pl.col("validity_check") == "official_score_agreement")
        & pl.col("subject").str.starts_with("readiness_index | ")
        & (pl.col("subject_b") == "staff_engagement")
        & pl.col("estimate").is_not_null()
    ).sort("n", descending=True)
    beyond = year.filter(
        (pl.col("validity_check") == "incremental_validity")
        & (pl.col("statistic") == "partial_r_given_engagement")
        & pl.col("estimate").is_not_null()
    )
    out = []
    for row in agreement.iter_rows(named=True):
        group = _group(row["subject"])
        added = [
            {
                "outcome": (labels or {}).get(b["subject_b"], b["subject_b"]),
                "estimate": b["estimate"],
                "ci_lo": b["ci_lo"],
                "ci_hi": b["ci_hi"],
                "n": b["n"],
                "holds": b["ci_lo"] > 0 or b["ci_hi"] < 0,
            }
            for b in beyond.filter(pl.col("subject").map_elements(_group, return_dtype=pl.String) == group)
            .sort("subject_b")
            .iter_rows(named=True)
        ]
        out.append(
            {
                "group": group,
                "rho": row["estimate"],
                "rho_lo": row["ci_lo"],
                "rho_hi": row["ci_hi"],
                "n": row["n"],
                "sentence": (
                    f"Among {row['n']} {group}, the index ranks trusts almost as the official staff engagement "
                    f"score does: Spearman {row['estimate']:.2f} (90% interval {row['ci_lo']:.2f} to "
                    f"{row['ci_hi']:.2f})."
                    if row["estimate"] >= 0.8
                    else f"Among {row['n']} {group}, the index agrees with the official staff engagement score at "
                    f"Spearman {row['estimate']:.2f} (90% interval {row['ci_lo']:.2f} to {row['ci_hi']:.2f})."
                ),
                "beyond": added,
            }
        )
    return out


def uncovered_periods(index_periods: pl.DataFrame, survey_year: int) -> list[dict[str, Any]]:
    """index_periods rows of the survey year whose performance data do not cover the financial year it needs."""
    return (
        index_periods.filter(
            (pl.col("survey_year") == survey_year)
            & (pl.col("source") == "performance_annual")
            & pl.col("note").str.starts_with("not covered")
        )
        .sort("dataset")
        .select("dataset", "required_period", "held_period", "note")
        .to_dicts()
    )
