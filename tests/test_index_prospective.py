"""Prospective validity statistics and the Oversight Framework beside the index (assets/index/prospective.py)."""

import math

import polars as pl
import pytest

from assets.index.prospective import (
    fisher_interval,
    index_beside_oversight,
    partial_spearman,
    prospective_validity,
    spearman,
)
from assets.staged.trust_context.assets import build_trust_context
from pipeline.reference import read_reference
from pipeline.settings import SNAPSHOT_DIR

EXTRACT = SNAPSHOT_DIR / "trust-context-extract" / "trust_profiles.csv"


def test_rank_statistics_by_hand() -> None:
    # ranks x 1..5, y 1,2,3,5,4: Σd² = 2, so rho = 1 - 6·2 / (5·24) = 0.9
    assert spearman([10, 20, 30, 40, 50], [1, 2, 3, 9, 4]) == pytest.approx(0.9)
    # given z = ranks 2,1,3,4,5: r_xy = .9, r_xz = .9 (Σd² = 2), r_yz = .8 (Σd² = 4)
    r = partial_spearman([1, 2, 3, 4, 5], [1, 2, 3, 5, 4], [2, 1, 3, 4, 5])
    assert r == pytest.approx((0.9 - 0.9 * 0.8) / math.sqrt((1 - 0.81) * (1 - 0.64)))
    lo, hi = fisher_interval(0.5, 28, 0, 0.95)
    half = 1.959963984540054 * math.sqrt(1.06 / 25)
    assert (lo, hi) == (
        pytest.approx(math.tanh(math.atanh(0.5) - half)),
        pytest.approx(math.tanh(math.atanh(0.5) + half)),
    )
    assert fisher_interval(0.5, 3, 0, 0.95) == (None, None)


@pytest.fixture(scope="module")
def context() -> pl.DataFrame:
    return build_trust_context(str(EXTRACT), "trust_profiles.csv")


def _index(rows: list[tuple[str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "org_code": [o for o, _ in rows],
            "survey_year": [2024] * len(rows),
            "benchmarking_group": ["Acute and Acute & Community Trusts"] * len(rows),
            "index_score": [s for _, s in rows],
            "rank_in_group": list(range(1, len(rows) + 1)),
            "n_in_group": [len(rows)] * len(rows),
            "ranked": [True] * len(rows),
        }
    )


def test_oversight_segment_is_shown_beside_the_index(context) -> None:
    beside = index_beside_oversight(
        _index([("RTH", 0.4), ("R1F1", -0.8)]), context, read_reference("reporting_sectors")
    )
    rows = {r["org_code"]: r for r in beside.iter_rows(named=True)}
    # trust_profiles.csv line 163 (RTH): overall_adjusted_segment 3.0, lt_rank 44; line 61 (R1F): lt_rank 82
    assert (rows["RTH"]["nof_segment"], rows["RTH"]["league_rank"], rows["RTH"]["oversight_period"]) == (
        3,
        44,
        "2025/26 Q3",
    )
    assert (rows["R1F1"]["oversight_org_code"], rows["R1F1"]["league_rank"]) == ("R1F", 82)
    assert rows["RTH"]["index_score"] == 0.4  # the index itself is passed through untouched


def test_prospective_rows_use_real_outcomes_and_say_when_not_estimable(context) -> None:
    # three acute trusts: too few for any interval (n - 3 = 0), so every row is not estimable but still listed
    index = _index([("RTH", 0.4), ("RRK", -0.6), ("R0A", 0.1)])
    engagement = pl.DataFrame(
        {"org_code": ["RTH", "RRK", "R0A"], "survey_year": [2024] * 3, "engagement": [6.98, 6.62, 6.79]}
    )
    rows = prospective_validity(index, engagement, context, read_reference("reporting_sectors"), 2024, 0.95)
    assert rows.height == 14 and set(rows["n"]) == {3} and rows["estimate"].is_null().all()
    shmi = rows.filter(pl.col("subject_b") == "shmi").row(0, named=True)
    assert shmi["expected_sign"] == -1 and "not estimable" in shmi["note"]
    assert "circular" in rows.filter(pl.col("subject_b") == "nof_domain_score_finance_productivity")["note"][0]
    # with five trusts the rank correlation is estimable; shmi_value_latest read by hand from lines 163, 157, 57,
    # 70 and 61: RTH 0.8838, RRK 0.9212, R0A 0.9936, RAL 0.8642, R1F 0.8937 (R1F1 takes R1F's)
    index = _index([("RTH", 0.4), ("RRK", -0.6), ("R0A", 0.1), ("RAL", -0.2), ("R1F1", 0.0)])
    engagement = pl.DataFrame(
        {
            "org_code": ["RTH", "RRK", "R0A", "RAL", "R1F1"],
            "survey_year": [2024] * 5,
            "engagement": [7.0, 6.6, 6.8, 6.9, 6.5],
        }
    )
    rows = prospective_validity(index, engagement, context, read_reference("reporting_sectors"), 2024, 0.95)
    rho = rows.filter((pl.col("subject_b") == "shmi") & (pl.col("statistic") == "spearman_rho")).row(0, named=True)
    # index 0.4, -0.6, 0.1, -0.2, 0.0 → ranks 5, 1, 4, 2, 3; SHMI → ranks 2, 4, 5, 1, 3
    d2 = (5 - 2) ** 2 + (1 - 4) ** 2 + (4 - 5) ** 2 + (2 - 1) ** 2 + 0
    assert rho["n"] == 5 and rho["estimate"] == pytest.approx(1 - 6 * d2 / (5 * 24))


def test_a_build_without_the_extract_shows_the_index_with_empty_oversight_columns() -> None:
    from assets.staged.trust_context.assets import empty_trust_context

    beside = index_beside_oversight(_index([("RTH", 0.4)]), empty_trust_context(), read_reference("reporting_sectors"))
    assert beside.height == 1 and beside["nof_segment"].is_null().all() and beside["league_rank"].is_null().all()
    rows = prospective_validity(
        _index([("RTH", 0.4)]),
        pl.DataFrame({"org_code": ["RTH"], "survey_year": [2024], "engagement": [7.0]}),
        empty_trust_context(),
        read_reference("reporting_sectors"),
        2024,
        0.95,
    )
    assert rows.height == 14 and set(rows["n"]) == {0}
