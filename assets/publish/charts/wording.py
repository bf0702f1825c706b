"""Plain-English words the charts and the report share: trust labels, ranks and the board sentence."""

import re
from typing import Any

import polars as pl

from assets.publish.charts.common import fmt
from assets.publish.charts.settings import scales

SUPPORT_TYPE_NUMBER = re.compile(r"type[\W_]*(\d)", re.IGNORECASE)


def trust_names(
    organisations: pl.DataFrame | None, survey_organisations: pl.DataFrame | None, survey_year: int
) -> pl.DataFrame:
    """org_code, org_name and a unique label: the survey's own name for the year, else the ODS name
    (the survey names trusts in mixed case and covers codes ODS lacks, such as R1F1 and R1F2)."""
    frames = []
    if survey_organisations is not None:
        frames.append(survey_organisations.filter(pl.col("survey_year") == survey_year).select("org_code", "org_name"))
    if organisations is not None:
        frames.append(organisations.select("org_code", "org_name"))
    if not frames:
        raise ValueError("trust names need organisations or survey_organisations")
    names = pl.concat(frames, how="vertical_relaxed").unique("org_code", keep="first", maintain_order=True)
    return names.with_columns(label=pl.format("{} ({})", "org_name", "org_code"))


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def percent(share: float | None) -> str:
    return "unknown" if share is None else f"{share:.0%}"


def interval_label() -> str:
    """'90% interval': the level the index method publishes (data/reference/report_scales.csv)."""
    return scales()["interval"].axis_title


def rank_text(rank: int | None, rank_lo: int | None, rank_hi: int | None, n_in_group: int | None) -> str:
    if rank is None:
        return "listed, not ranked (coverage below the minimum)"
    return f"{rank} of {n_in_group} ({interval_label()} {rank_lo} to {rank_hi})"


def area_key(value: object, names: dict[str, str]) -> str | None:
    """The id of a weakest factor or barrier, whether the index stored its id or its name."""
    if value is None:
        return None
    by_name = {name: key for key, name in names.items()}
    return str(value) if str(value) in names else by_name.get(str(value))


def area_name(value: object, names: dict[str, str]) -> str:
    """A weakest factor or barrier by name, whether the index stored its id or its name."""
    if value is None:
        return "not identified"
    return names.get(str(value), str(value))


def support_type_words(value: str | None, support_types: pl.DataFrame) -> str:
    """'Type 2 “Proactive support” (practical help to change: ...)' from whatever form the index stored."""
    if not value:
        return "no suggestion (too little of the index could be measured)"
    match = SUPPORT_TYPE_NUMBER.search(value)
    known = support_types.filter(pl.col("type_number") == int(match.group(1))) if match else support_types.clear()
    if known.is_empty():
        return value
    row = known.row(0, named=True)
    return f"Type {row['type_number']} “{row['name']}” ({row['in_words']})"


def board_sentence(
    index_row: dict[str, Any],
    trust_name: str,
    factor_names: dict[str, str],
    barrier_names: dict[str, str],
    support_types: pl.DataFrame,
) -> str:
    """One sentence a board member can read: index with interval, rank interval, weakest areas, support type."""
    interval = f"{interval_label()} {fmt(index_row['index_lo'])} to {fmt(index_row['index_hi'])}"
    confidence = interval_label().split()[0]
    group = index_row["benchmarking_group"]
    opening = (
        f"In the {index_row['survey_year']} NHS Staff Survey, {trust_name} scores {fmt(index_row['index_score'])} "
        f"on the change-readiness index ({interval}), "
    )
    if index_row["rank_in_group"] is None:
        return (
            f"{opening}but is listed, not ranked, among {group} because only {percent(index_row['coverage'])} of the "
            "index could be measured; its weakest areas and a suggested national support type are not given on "
            "so little data."
        )
    weakest = [index_row[k] for k in ("weakest_factor_1", "weakest_factor_2") if index_row[k] is not None]
    if weakest:
        factors = "its weakest factors are " + " and ".join(f"“{area_name(v, factor_names)}”" for v in weakest)
    else:
        # the profile names a weakest area only where its probability reaches the threshold; otherwise say why
        factors = f"no factor is named its weakest ({index_row.get('weakest_factor_status') or 'not identified'})"
    if index_row["weakest_barrier"] is not None:
        barrier = area_name(index_row["weakest_barrier"], barrier_names)
        barrier = f"its weakest barrier is {barrier[:1].lower() + barrier[1:]}"
    else:
        barrier = f"no barrier is named its weakest ({index_row.get('weakest_barrier_status') or 'not identified'})"
    status = index_row.get("support_status")
    if "support_status" in index_row and (status != "suggested" or not index_row["suggested_support_type"]):
        # the index method gives a type only where it survives its uncertainty; otherwise say why not
        support = f"; no national support type is suggested ({status or 'no status published'})"
    else:
        support = (
            f", so the suggested national support is "
            f"{support_type_words(index_row['suggested_support_type'], support_types)}"
        )
    return (
        f"{opening}ranking {ordinal(index_row['rank_in_group'])} of {index_row['n_in_group']} {group} "
        f"(somewhere between {ordinal(index_row['rank_lo'])} and {ordinal(index_row['rank_hi'])} with {confidence} "
        f"confidence); {factors}, and {barrier}{support}."
    )
