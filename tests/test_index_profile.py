"""The relative profile, p_weakest and the per-draw support rule, recomputed by hand from the Monte Carlo draws of
the real snapshot build; the publication rules (credible-below, unranked means silent) as properties."""

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.index.montecarlo import YearDraws, simulate
from assets.index.readiness import ACTION_COLUMNS, silence_unranked
from assets.index.support import NONE_BELOW, NOT_RANKED, SUGGESTED, TYPE_COLUMNS, support_advice
from assets.indicators.framework import load_framework
from tests.conftest import SnapshotBuild

YEAR = 2024


@pytest.fixture(scope="module")
def published(snapshot_build: SnapshotBuild) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(snapshot_build.warehouse), read_only=True) as con:
        return {
            t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl()
            for t in ("indicators", "factor_scores", "barrier_scores", "readiness_index")
        }


@pytest.fixture(scope="module")
def draws(published: dict[str, pl.DataFrame]) -> YearDraws:
    """The full Monte Carlo of 2024 rerun from the published indicators (same seed, same stream)."""
    indicators = published["indicators"].filter(pl.col("survey_year") == YEAR)
    return simulate(indicators, load_framework())[YEAR]


def _a_ranked_trust(published: dict[str, pl.DataFrame]) -> str:
    """The first ranked trust of 2024 in code order with every factor scored and a suggested type."""
    index = published["readiness_index"].filter(
        (pl.col("survey_year") == YEAR) & pl.col("ranked") & (pl.col("n_factors") == 7)
    )
    return index.filter(pl.col("suggested_support_type").is_not_null()).sort("org_code")["org_code"][0]


def test_relative_profile_and_p_weakest_recomputed_by_hand_from_the_draws(published, draws) -> None:
    org = _a_ranked_trust(published)
    t = draws.arrays.org_codes.index(org)
    factors = draws.factors[:, t, :]  # (D, 7) this trust's factor scores in every draw
    rows = published["factor_scores"].filter((pl.col("org_code") == org) & (pl.col("survey_year") == YEAR))
    rows = rows.sort("factor_id")
    point = rows["score"].to_list()
    lowest_counts = [0] * 7
    relative_draws: list[list[float]] = [[] for _ in range(7)]
    for draw in factors.tolist():
        own_level = sum(draw) / 7
        for k in range(7):
            relative_draws[k].append(draw[k] - own_level)
        lowest_counts[draw.index(min(draw))] += 1
    for k, row in enumerate(rows.iter_rows(named=True)):
        assert row["relative_score"] == pytest.approx(point[k] - sum(point) / 7, abs=1e-12)
        low = min(float(np.quantile(relative_draws[k], 0.05)), row["relative_score"])
        high = max(float(np.quantile(relative_draws[k], 0.95)), row["relative_score"])
        assert (row["relative_lo"], row["relative_hi"]) == (pytest.approx(low, abs=1e-12), pytest.approx(high))
        assert row["p_weakest"] == lowest_counts[k] / len(factors)
    assert sum(lowest_counts) == len(factors)
    # weakest_factor_1 is the factor lowest most often, published because it reaches the 0.5 threshold
    index = published["readiness_index"].filter((pl.col("org_code") == org) & (pl.col("survey_year") == YEAR))
    best = max(range(7), key=lambda k: lowest_counts[k])
    expected = best + 1 if lowest_counts[best] / len(factors) >= 0.5 else None
    assert index["weakest_factor_1"].item() == expected


def test_support_type_probability_is_the_share_of_draws_giving_the_type(published, draws) -> None:
    org = _a_ranked_trust(published)
    t = draws.arrays.org_codes.index(org)
    type_of = dict(load_framework().barriers.select("barrier", "support_type").iter_rows())
    counts = {"type_1": 0, "type_2": 0, "type_3": 0}
    for draw in draws.barriers[:, t, :].tolist():
        counts[type_of[draws.arrays.barriers[draw.index(min(draw))]]] += 1
    row = (
        published["readiness_index"]
        .filter((pl.col("org_code") == org) & (pl.col("survey_year") == YEAR))
        .row(0, named=True)
    )
    n = draws.barriers.shape[0]
    assert [row[f"p_{k}"] for k in counts] == [counts[k] / n for k in counts]
    assert row["support_type_probability"] == max(counts.values()) / n
    modal = max(counts, key=lambda k: counts[k])
    names = dict(load_framework().support_types.select("support_type", "support_name").iter_rows())
    assert (row["suggested_support_type"], row["support_status"]) == (names[modal], SUGGESTED)
    assert row["support_type_probability"] >= 0.6


def test_unranked_rows_of_the_real_build_carry_no_action_column(published) -> None:
    index = published["readiness_index"]
    unranked = index.filter(~pl.col("ranked"))
    assert unranked["survey_year"].n_unique() >= 3  # 2021-2023 (coverage about 0.15) are all unranked
    for column in [*ACTION_COLUMNS, "rank_in_group", "rank_lo", "rank_hi"]:
        assert unranked[column].null_count() == unranked.height, column
    assert set(unranked["support_status"]) == {NOT_RANKED}


def test_the_rule_holds_on_the_real_build(published) -> None:
    """Every suggestion has its premise: a barrier credibly below the group and a share of at least 0.6."""
    barriers = published["barrier_scores"].with_columns(
        below=pl.col("score_hi") < pl.col("score").mean().over("survey_year", "benchmarking_group", "barrier")
    )
    below = barriers.group_by("org_code", "survey_year").agg(any_below=pl.col("below").any())
    suggested = (
        published["readiness_index"]
        .filter(pl.col("suggested_support_type").is_not_null())
        .join(below, on=["org_code", "survey_year"])
    )
    assert suggested.height > 0
    assert suggested["any_below"].all() and (suggested["support_type_probability"] >= 0.6).all()
    above = published["readiness_index"].filter(pl.col("support_status") == NONE_BELOW)
    assert above["suggested_support_type"].null_count() == above.height


BARRIERS = ["recognition", "motivation", "headspace", "capability"]
_unit = st.floats(0, 1, allow_nan=False)
_score = st.floats(-3, 3, allow_nan=False)


@st.composite
def _trust(draw: st.DrawFn) -> tuple[dict, list[dict]]:
    """One synthetic trust: type shares summing to 1, barrier scores, upper bounds and group means."""
    raw = [draw(_unit) for _ in range(3)]
    total = sum(raw) or 1.0
    shares = [v / total for v in raw] if sum(raw) else [1.0, 0.0, 0.0]
    ranked = draw(st.booleans())
    above_everywhere = draw(st.booleans())
    barriers = []
    for barrier in BARRIERS:
        mean = draw(_score)
        score_lo = mean + draw(st.floats(0.001, 2)) if above_everywhere else draw(_score)
        score_hi = score_lo + draw(st.floats(0, 2))
        barriers.append(
            {
                "org_code": "T1",
                "survey_year": YEAR,
                "barrier": barrier,
                "score": (score_lo + score_hi) / 2,
                "score_lo": score_lo,
                "score_hi": score_hi,
                "group_mean": mean,
                "p_weakest": draw(_unit),
            }
        )
    index = {"org_code": "T1", "survey_year": YEAR, "ranked": ranked, **dict(zip(TYPE_COLUMNS, shares, strict=True))}
    return index, barriers


@settings(max_examples=150, deadline=None)
@given(_trust())
def test_property_credibly_above_everywhere_or_unranked_never_gets_a_suggestion(trust) -> None:
    index, barriers = trust
    framework = load_framework()
    advice = support_advice(pl.DataFrame([index]), pl.DataFrame(barriers), framework).row(0, named=True)
    credibly_above = all(b["score_lo"] > b["group_mean"] for b in barriers)
    if credibly_above or not index["ranked"]:
        assert advice["suggested_support_type"] is None
        assert advice["support_status"] in (NOT_RANKED, NONE_BELOW)
    if advice["suggested_support_type"] is not None:
        assert advice["support_type_probability"] >= framework.settings.support_min_probability
        assert any(b["score_hi"] < b["group_mean"] for b in barriers)
    # unranked rows never carry action columns once silenced
    row = {c: 1 for c in ACTION_COLUMNS} | {
        "ranked": index["ranked"],
        "weakest_factor_status": "clear",
        "weakest_barrier_status": "clear",
    }
    silenced = silence_unranked(pl.DataFrame([row])).row(0, named=True)
    if not index["ranked"]:
        assert all(silenced[c] is None for c in ACTION_COLUMNS)
    else:
        assert all(silenced[c] == 1 for c in ACTION_COLUMNS)


def test_the_sampling_only_interval_comes_from_draws_without_weight_noise(published) -> None:
    """index_lo_sampling / index_hi_sampling of one real trust: the 5th and 95th percentiles of the index over the
    sampling-only run (weights fixed, stream 2), widened to include the point."""
    from assets.index.readiness import SAMPLING_STREAM

    indicators = published["indicators"].filter(pl.col("survey_year") == YEAR)
    sampling = simulate(indicators, load_framework(), stream=SAMPLING_STREAM, perturb_weights=False)[YEAR]
    org = _a_ranked_trust(published)
    draws = sampling.index[:, sampling.arrays.org_codes.index(org)]
    row = published["readiness_index"].filter((pl.col("org_code") == org) & (pl.col("survey_year") == YEAR))
    point = row["index_score"].item()
    assert row["index_lo_sampling"].item() == pytest.approx(min(float(np.quantile(draws, 0.05)), point), abs=1e-12)
    assert row["index_hi_sampling"].item() == pytest.approx(max(float(np.quantile(draws, 0.95)), point), abs=1e-12)
    # over the 2024 acute group the sampling-only interval is the narrower one (weights add uncertainty)
    acute = published["readiness_index"].filter(
        (pl.col("survey_year") == YEAR) & (pl.col("benchmarking_group") == "Acute and Acute & Community Trusts")
    )
    widths = acute.select(
        full=(pl.col("index_hi") - pl.col("index_lo")).median(),
        sampling=(pl.col("index_hi_sampling") - pl.col("index_lo_sampling")).median(),
    ).row(0, named=True)
    assert widths["sampling"] < widths["full"]
