"""Funnel plot of one survey percentage against its base n, with control limits adjusted for overdispersion.

For a group mean proportion p̄ (each trust's percentage weighted by its base n: p̄ = Σ pᵢnᵢ / Σ nᵢ) and a trust
with base n, sᵢ = √(p̄ (1 − p̄) / nᵢ) is the binomial standard error. With thousands of respondents per trust the
binomial limits are far narrower than the real spread between trusts (about 49 of 122 acute trusts fell outside
plain 99.8% limits), so the limits use Spiegelhalter's ADDITIVE RANDOM-EFFECTS method (Stat Med 2005;24:1185-1202;
BMJ Qual Saf 2005;14:347-351; the `model = "additive"` choice of NHS-R's FunnelPlotR), which suits large bases
better than the multiplicative one because it widens the funnel by a constant between-trust variance τ²:

    zᵢ = (yᵢ − p̄) / sᵢ, winsorised at the 10th and 90th percentiles (FunnelPlotR's default) → zᵢ*
    φ = Σ zᵢ*² / I over the I trusts;  if φ ≤ 1 the plain binomial limits are kept (τ² = 0)
    τ² = max(0, (I φ − (I − 1)) / (Σ wᵢ − Σ wᵢ² / Σ wᵢ)),  wᵢ = 1 / sᵢ²
    limits p̄ ± z · √(sᵢ² + τ²),   z = Φ⁻¹(1 − (1 − c) / 2)   (1.96 for 95%, 3.09 for 99.8%), clipped to 0–100%.

Published survey percentages are weighted while the base is the nominal count of responses; τ² absorbs that
design effect along with the real differences between trusts.
"""

from statistics import NormalDist

import altair as alt
import numpy as np
import polars as pl

from assets.publish.charts.common import (
    BLACK,
    BLUE,
    CHART_WIDTH,
    GREY,
    VERMILLION,
    decimals_to_double,
    require_columns,
    title,
)
from assets.publish.charts.settings import ControlLimit, KeyMeasure

CURVE_POINTS = 80
# how many trusts outside the outer limits are named on the chart: the most extreme by |z| (all are in the CSV)
LABELLED = 5
WINSOR = (0.10, 0.90)


def random_effects_tau2(pct: np.ndarray, base: np.ndarray, p_bar: float) -> tuple[float, float]:
    """(φ, τ²) of Spiegelhalter's additive random-effects model, proportions in 0–1 (see the module docstring)."""
    s = np.sqrt(p_bar * (1 - p_bar) / base)
    z = (pct - p_bar) / s
    lo, hi = np.quantile(z, WINSOR)
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    if phi <= 1 or len(z) < 2:
        return phi, 0.0
    w = 1 / s**2
    tau2 = max(0.0, (len(z) * phi - (len(z) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, float(tau2)


def z_value(coverage: float) -> float:
    return NormalDist().inv_cdf(1 - (1 - coverage) / 2)


def funnel_points(
    items: pl.DataFrame,
    members: pl.DataFrame,
    names: pl.DataFrame,
    *,
    measure: KeyMeasure,
    limits: tuple[ControlLimit, ...],
    group: str,
    survey_year: int,
) -> tuple[pl.DataFrame, float]:
    """Each group trust's percentage and base, where it falls against the limits, and the group mean (in %)."""
    require_columns(items, {"org_code", "survey_year", "question_id", "base", measure.statistic}, "staff_survey_items")
    in_group = members.filter((pl.col("benchmarking_group") == group) & (pl.col("survey_year") == survey_year))
    points = (
        decimals_to_double(items)
        .filter(
            (pl.col("survey_year") == survey_year)
            & (pl.col("question_id") == measure.question_id)
            & pl.col("org_code").is_in(in_group["org_code"].implode())
            & pl.col(measure.statistic).is_not_null()
            & (pl.col("base") > 0)
        )
        .select("org_code", pct=pl.col(measure.statistic).cast(pl.Float64), base=pl.col("base").cast(pl.Float64))
    )
    if points.is_empty():
        raise ValueError(f"no {measure.question_id} {measure.statistic} for {group!r} in {survey_year}")
    if points.filter((pl.col("pct") < 0) | (pl.col("pct") > 100)).height:
        raise ValueError(f"{measure.statistic} must be a percentage from 0 to 100")
    mean_pct = float((points["pct"] * points["base"]).sum() / points["base"].sum())
    p_bar = mean_pct / 100
    phi, tau2 = random_effects_tau2(points["pct"].to_numpy() / 100, points["base"].to_numpy(), p_bar)
    outer = max(limits, key=lambda limit: limit.coverage)
    inner = min(limits, key=lambda limit: limit.coverage)

    def bound(limit: ControlLimit, sign: int) -> pl.Expr:
        half_width = z_value(limit.coverage) * ((p_bar * (1 - p_bar)) / pl.col("base") + tau2).sqrt()
        return ((p_bar + sign * half_width) * 100).clip(0, 100)

    worse_if_high = measure.higher_is_worse
    points = (
        points.join(names.select("org_code", "label"), on="org_code", how="left")
        .with_columns(
            label=pl.coalesce("label", "org_code"),
            outer_lo=bound(outer, -1),
            outer_hi=bound(outer, 1),
            inner_lo=bound(inner, -1),
            inner_hi=bound(inner, 1),
        )
        .with_columns(
            position=pl.when(pl.col("pct") > pl.col("outer_hi"))
            .then(pl.lit(f"above the {outer.label}"))
            .when(pl.col("pct") < pl.col("outer_lo"))
            .then(pl.lit(f"below the {outer.label}"))
            .when((pl.col("pct") > pl.col("inner_hi")) | (pl.col("pct") < pl.col("inner_lo")))
            .then(pl.lit(f"between the {inner.label} and the {outer.label}"))
            .otherwise(pl.lit(f"within the {inner.label}")),
            outlier=(pl.col("pct") > pl.col("outer_hi")) | (pl.col("pct") < pl.col("outer_lo")),
            z_adjusted=(pl.col("pct") / 100 - p_bar) / ((p_bar * (1 - p_bar)) / pl.col("base") + tau2).sqrt(),
            phi=pl.lit(phi),
            tau2=pl.lit(tau2),
        )
        .with_columns(
            judgement=pl.when(~pl.col("outlier"))
            .then(pl.lit("within the control limits"))
            .when((pl.col("pct") > pl.col("outer_hi")) == worse_if_high)
            .then(pl.lit("worse than the group: outside the control limits"))
            .otherwise(pl.lit("better than the group: outside the control limits"))
        )
        .sort("org_code")
    )
    return points, mean_pct


def funnel_curves(
    mean_pct: float, n_min: float, n_max: float, limits: tuple[ControlLimit, ...], tau2: float = 0.0
) -> pl.DataFrame:
    """The limit lines over a geometric grid of base n spanning the data (a few hundred rows, whatever the group)."""
    grid = np.geomspace(max(n_min, 1.0), n_max, CURVE_POINTS)
    p_bar = mean_pct / 100
    rows = []
    for limit in limits:
        half_width = z_value(limit.coverage) * np.sqrt(p_bar * (1 - p_bar) / grid + tau2)
        for side, sign in (("upper", 1), ("lower", -1)):
            values = np.clip(p_bar + sign * half_width, 0, 1) * 100
            rows.append(
                pl.DataFrame({"base": grid, "pct": values}).with_columns(
                    limit=pl.lit(limit.label), side=pl.lit(side), line=pl.lit(f"{limit.label} ({side})")
                )
            )
    return pl.concat(rows)


def funnel_plot(
    items: pl.DataFrame,
    members: pl.DataFrame,
    names: pl.DataFrame,
    *,
    measure: KeyMeasure,
    limits: tuple[ControlLimit, ...],
    group: str,
    survey_year: int,
    caption: str,
) -> alt.LayerChart:
    points, mean_pct = funnel_points(
        items, members, names, measure=measure, limits=limits, group=group, survey_year=survey_year
    )
    n_min, n_max = float(points["base"].min()), float(points["base"].max())  # type: ignore[arg-type]
    tau2 = float(points["tau2"][0])
    curves = funnel_curves(mean_pct, n_min, n_max, limits, tau2)
    # the axis spans the data, not the next power of ten
    x = alt.X(
        "base:Q",
        scale=alt.Scale(type="log", domain=[n_min, n_max], nice=False),
        title="Base: number of respondents (log scale)",
    )
    y = alt.Y("pct:Q", title=f"{measure.label} ({measure.unit})", scale=alt.Scale(zero=False))
    dashes = {limit.label: [6, 4] if limit.dashed else [1, 0] for limit in limits}
    lines = (
        alt.Chart(curves)
        .mark_line(color=GREY)
        .encode(
            x=x,
            y=y,
            detail="line:N",
            strokeDash=alt.StrokeDash(
                "limit:N",
                scale=alt.Scale(domain=list(dashes), range=list(dashes.values())),
                legend=alt.Legend(title="Control limits"),
            ),
            tooltip=[alt.Tooltip("line:N", title="Limit"), alt.Tooltip("pct:Q", title="%", format=".1f")],
        )
    )
    mean = (
        alt.Chart(pl.DataFrame({"mean_pct": [mean_pct]}))
        .mark_rule(color=BLACK)
        .encode(y="mean_pct:Q", tooltip=[alt.Tooltip("mean_pct:Q", title="Group mean (%)", format=".1f")])
    )
    judgements = [
        "worse than the group: outside the control limits",
        "within the control limits",
        "better than the group: outside the control limits",
    ]
    dots = (
        alt.Chart(points)
        .mark_point(filled=True, size=60)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "judgement:N",
                scale=alt.Scale(domain=judgements, range=[VERMILLION, GREY, BLUE]),
                legend=alt.Legend(title="Trust", labelLimit=320),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Trust"),
                alt.Tooltip("pct:Q", title=measure.unit, format=".1f"),
                alt.Tooltip("base:Q", title="Base (respondents)", format=",.0f"),
                alt.Tooltip("position:N", title="Position"),
            ],
        )
    )
    extreme = points.filter(pl.col("outlier")).sort(pl.col("z_adjusted").abs(), descending=True).head(LABELLED)
    labels = alt.Chart(extreme).mark_text(align="left", dx=7, fontSize=11).encode(x=x, y=y, text="label:N")
    return alt.layer(lines, mean, dots, labels).properties(
        width=CHART_WIDTH,
        height=380,
        title=title(
            f"{measure.label}: {group}, {survey_year}",
            f"Group mean {mean_pct:.1f}% (weighted by base); limits widened for overdispersion (Spiegelhalter "
            f"additive random effects, τ = {100 * tau2**0.5:.1f} points). At most {LABELLED} of the trusts outside "
            f"the outer limits, the most extreme, are named; the CSV lists all.",
            caption,
        ),
    )
