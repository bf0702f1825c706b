"""Chart specs checked from the spec dict: data, encodings, titles and units (synthetic frames from
tests/helpers/report_frames.py, plus the funnel limits on real 2024 ambulance-trust rows)."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import polars as pl
import pytest

from assets.publish.charts import export, funnel, heatmap, league, profile, settings, spc_panels, trends, validity
from assets.publish.charts.common import SPC_COLOURS, caption, decimals_to_double
from assets.publish.charts.wording import board_sentence, support_type_words, trust_names
from tests.helpers import report_frames as rf

CAPTION = caption("synthetic test frames", date(2026, 11, 22))
EXTRACT = "nhs-staff-survey/data_trusts_well-being - organisational results.csv"


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a spec, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [node["encoding"] for node in walk(spec) if isinstance(node.get("encoding"), dict)]


def dataset_rows(spec: dict[str, Any], containing: str) -> list[dict[str, Any]]:
    """The embedded dataset whose rows have a column named `containing` (datasets are keyed by content hash)."""
    matches = [rows for rows in spec["datasets"].values() if rows and containing in rows[0]]
    assert len(matches) == 1, f"{len(matches)} datasets have a {containing!r} column"
    return matches[0]


def axis_titles(spec: dict[str, Any]) -> list[str]:
    titles = []
    for encoding in encodings(spec):
        for channel in ("x", "y"):
            text = encoding.get(channel, {}).get("title")
            if text:
                titles.append(" ".join(text) if isinstance(text, list) else text)
    return titles


def assert_common_parts(spec: dict[str, Any], heading: str) -> None:
    """A valid Vega-Lite spec with a title, a source-and-date caption, axis titles and tooltips."""
    alt.TopLevelSpec.validate(spec)
    assert heading in spec["title"]["text"]
    assert spec["title"]["subtitle"][-1] == "Source: synthetic test frames. Built 2026-11-22."
    assert axis_titles(spec)
    assert any("tooltip" in encoding for encoding in encodings(spec))
    assert spec["$schema"].endswith("v6.4.1.json")


@pytest.fixture(scope="module")
def names() -> pl.DataFrame:
    return trust_names(rf.organisations(), rf.survey_organisations(), rf.YEAR)


@pytest.fixture(scope="module")
def barrier_names() -> dict[str, str]:
    caveats = settings.factor_caveats().filter(pl.col("area") == "barrier")
    return dict(caveats.select("area_id", "name").iter_rows())


def test_decimal_columns_are_cast_to_double() -> None:
    frame = duckdb.sql("SELECT 0.62::DECIMAL(6, 3) AS index_score, 'ZA1' AS org_code").pl()
    assert isinstance(frame.schema["index_score"], pl.Decimal)
    cast = decimals_to_double(frame)
    assert cast.schema == {"index_score": pl.Float64, "org_code": pl.String}
    assert cast["index_score"].to_list() == [0.62]


def interval_title(spec: dict[str, Any]) -> str:
    return settings.scales()["index"].title


def test_league_table_with_decimal_input_sorts_by_rank_and_shows_unranked_apart(names: pl.DataFrame) -> None:
    con = duckdb.connect()
    con.register("frame", rf.readiness_index())
    # as the published file would hand it over: index columns stored as DECIMAL
    index = con.sql("SELECT * REPLACE (index_score::DECIMAL(8, 4) AS index_score) FROM frame").pl()
    assert isinstance(index.schema["index_score"], pl.Decimal)
    spec = league.league_table(
        index, names, group=rf.AMBULANCE, survey_year=2024, scale=settings.scales()["index"], caption=CAPTION
    ).to_dict()
    assert_common_parts(spec, "Change-readiness index, Ambulance Trusts, 2024")
    top_axis, ranked, unranked = spec["vconcat"]
    # the x axis is repeated at the top of the league, on the shared scale
    assert top_axis["encoding"]["x"]["axis"] == {"orient": "top", "title": interval_title(spec)}
    # each row names its rank interval, visible without hovering
    assert ranked["layer"][1]["encoding"]["y"]["field"] == "row_label"
    assert "Ranked trusts (3)" in ranked["title"]["text"] and "not ranked" in unranked["title"]["text"]
    rows = [row for rows in spec["datasets"].values() for row in rows if "label" in row]
    by_panel = {row["org_code"]: row for row in rows}
    assert [r["org_code"] for r in sorted(rows, key=lambda r: r["order"])] == ["ZA1", "ZA2", "ZA3", "ZA4"]
    assert by_panel["ZA1"]["index_score"] == 0.62  # a number, not the string a DECIMAL would become
    assert by_panel["ZA1"]["rank_text"] == "1 of 3 (90% interval 1 to 2)"
    assert by_panel["ZA4"]["rank_text"] == "listed, not ranked: coverage below the minimum"
    interval = ranked["layer"][1]["encoding"]
    assert any(row.get("row_label", "").endswith("(ZA1) · 1 of 3 (90% interval 1 to 2)") for row in rows)
    assert (interval["x"]["field"], interval["x2"]["field"]) == ("index_lo", "index_hi")
    assert "standardised score, 0 = benchmarking-group average" in interval["x"]["title"]
    assert "rank_text" in [t["field"] for t in interval["tooltip"]]
    assert dataset_rows(spec, "group_median") == [{"group_median": 0.10}]  # median of 0.62, 0.10, -0.72
    assert spec["resolve"]["scale"]["x"] == "shared"


def test_trust_profile_against_group_quartiles(barrier_names: dict[str, str]) -> None:
    rows = profile.profile_rows(
        rf.readiness_index(), rf.factor_scores(), rf.barrier_scores(), barrier_names, org_code="ZA2", survey_year=2024
    )
    assert rows.height == 11
    first = rows.row(0, named=True)
    # factor 1, 2024, ambulance trusts: base + 0.3 + 0.2 - 0.2 -> ZA1 0.92, ZA2 0.40, ZA3 -0.42, ZA4 0.35;
    # sorted -0.42, 0.35, 0.40, 0.92: median 0.375, q25 = -0.42 + 0.75 × 0.77 = 0.1575, q75 = 0.40 + 0.25 × 0.52
    assert first["score"] == pytest.approx(0.40)
    assert (first["group_q25"], first["group_median"], first["group_q75"]) == pytest.approx((0.1575, 0.375, 0.53))
    not_measured = rows.filter(pl.col("item") == "5").row(0, named=True)
    assert not not_measured["measured"] and not_measured["label"].endswith("(not measured)")
    assert rows.filter(pl.col("weakest"))["item"].to_list() == ["6", "7", "headspace"]

    spec = profile.trust_profile(
        rf.readiness_index(),
        rf.factor_scores(),
        rf.barrier_scores(),
        trust_label="Synthetic Ambulance Trust B (ZA2)",
        org_code="ZA2",
        survey_year=2024,
        barrier_names=barrier_names,
        support_types=settings.support_types(),
        factor_scale=settings.scales()["factor"],
        barrier_scale=settings.scales()["barrier"],
        caption=CAPTION,
    )
    assert_common_parts(spec, "Change-readiness profile: Synthetic Ambulance Trust B (ZA2), 2024")
    assert spec["title"]["subtitle"][1] == (
        "Suggested national support: Type 2 “Proactive support” (practical help to change: dedicated resources, "
        "time and improvement expertise)."
    )
    factors_panel, barriers_panel = spec["vconcat"]
    # one dataset of 11 rows; each panel draws its own area, 24 px a row
    assert len(spec["datasets"][export.ROWS]) == 11
    assert factors_panel["transform"] == [{"filter": "(datum.area === 'Success factors')"}]
    assert barriers_panel["transform"] == [{"filter": "(datum.area === 'Barriers')"}]
    assert (factors_panel["height"], barriers_panel["height"]) == (24 * 7, 24 * 4)
    point = factors_panel["layer"][3]["encoding"]
    assert point["color"]["field"] == "weakest" and point["color"]["scale"]["range"] == ["#D55E00", "#0072B2"]
    assert factors_panel["layer"][0]["encoding"]["x"]["title"].startswith("Success-factor score (standardised")
    assert barriers_panel["layer"][0]["encoding"]["x"]["title"].startswith("Barrier score (standardised")


def test_weakest_factors_stored_by_name_and_support_type_in_another_form(barrier_names: dict[str, str]) -> None:
    rows = profile.profile_rows(
        rf.readiness_index(), rf.factor_scores(), rf.barrier_scores(), barrier_names, org_code="ZC1", survey_year=2024
    )
    assert rows.filter(pl.col("weakest"))["item"].to_list() == ["6", "7", "motivation"]
    assert support_type_words("type_3_people_focused", settings.support_types()).startswith("Type 3 “People-focused”")
    assert support_type_words("Bespoke", settings.support_types()) == "Bespoke"


def test_heatmap_standardises_each_factor_within_the_group_and_sorts_by_a_bound_parameter(names) -> None:
    rows = heatmap.heatmap_rows(rf.readiness_index(), rf.factor_scores(), names, group=rf.AMBULANCE, survey_year=2024)
    assert rows.height == 4 * 7
    # factor 1 scores 0.92, 0.40, -0.42, 0.35: mean 0.3125, sample SD √(0.914675 / 3) = 0.55217 -> ZA1 z = 1.1002
    za1 = rows.filter((pl.col("org_code") == "ZA1") & (pl.col("factor_id") == 1)).row(0, named=True)
    assert za1["z"] == pytest.approx(1.1002, abs=1e-4)
    missing = rows.filter((pl.col("org_code") == "ZA2") & (pl.col("factor_id") == 5)).row(0, named=True)
    assert missing["z"] is None and not missing["measured"]
    order = rows.unique("org_code").sort("index_order")["org_code"].to_list()
    assert order == ["ZA1", "ZA2", "ZA4", "ZA3"]  # by index 0.62, 0.10, 0.05, -0.72

    spec = heatmap.factor_heatmap(
        rf.readiness_index(), rf.factor_scores(), names, group=rf.AMBULANCE, survey_year=2024, caption=CAPTION
    ).to_dict()
    assert_common_parts(spec, "Success factors by trust, Ambulance Trusts, 2024")
    (param,) = spec["params"]
    assert param["bind"]["options"] == ["Readiness index", "Trust name"]
    measured = spec["layer"][1]
    assert measured["encoding"]["color"]["scale"] == {"scheme": "blueorange", "reverse": True, "domainMid": 0}
    assert measured["encoding"]["y"]["sort"] == {"field": "sort_key", "op": "min"}
    # coloured by the published factor score (the trust page's number), labels never truncated
    assert measured["encoding"]["color"]["field"] == "score"
    assert measured["encoding"]["y"]["axis"] == {"labelLimit": 0}
    calculate = next(t for node in walk(spec) for t in node.get("transform", []) if "calculate" in t)
    assert "sort_by == 'Readiness index'" in calculate["calculate"]


def test_funnel_limits_on_hand_made_rows(names: pl.DataFrame) -> None:
    points, mean = funnel.funnel_points(
        rf.staff_survey_items(),
        rf.readiness_index(),
        names,
        measure=settings.key_measure("funnel"),
        limits=settings.funnel_limits(),
        group=rf.AMBULANCE,
        survey_year=2024,
    )
    # worked in tests/helpers/report_frames.py: mean 310700 / 7650 = 40.6144 %. Overdispersion by hand
    # (funnel.py docstring): z = (y − p̄) / √(p̄(1 − p̄)/n) = ZA1 4.8912, ZA2 −5.1125, ZA3 −0.6520, ZA4 −0.6255;
    # winsorised at the 10th/90th percentiles (linear): −3.7744 and 3.2362, so φ = (3.7744² + 0.6520² + 0.6255² +
    # 3.2362²) / 4 = 6.3837; Σw = 31717.60, Σw² = 3.31296e8, τ² = (4 × 6.3837 − 3) / (31717.60 − 3.31296e8 /
    # 31717.60) = 0.00105935; ZA1's 99.8% upper limit 40.6144 + 3.0902 × √(0.406144 × 0.593856 / 3000 + τ²) × 100
    # = 51.0470, so with the between-trust spread allowed for, ZA1 (45.0) and ZA2 (35.0) are within it
    assert mean == pytest.approx(40.61438, abs=1e-4)
    za1 = points.filter(pl.col("org_code") == "ZA1").row(0, named=True)
    assert za1["phi"] == pytest.approx(6.38372, abs=1e-4)
    assert za1["tau2"] == pytest.approx(0.00105935, rel=1e-4)
    assert za1["outer_hi"] == pytest.approx(51.0470, abs=1e-3)
    assert za1["inner_lo"] == pytest.approx(33.9975, abs=1e-3)
    assert set(points["judgement"]) == {"within the control limits"}
    assert funnel.z_value(0.95) == pytest.approx(1.959964, abs=1e-6)

    spec = funnel.funnel_plot(
        rf.staff_survey_items(),
        rf.readiness_index(),
        names,
        measure=settings.key_measure("funnel"),
        limits=settings.funnel_limits(),
        group=rf.AMBULANCE,
        survey_year=2024,
        caption=CAPTION,
    ).to_dict()
    assert_common_parts(spec, "(Q12b): Ambulance Trusts, 2024")
    lines, _, dots, labels = spec["layer"]
    # the axis stops at the smallest and largest base (ZA3 150, ZA1 3000), not at the next power of ten
    assert lines["encoding"]["x"]["scale"] == {"type": "log", "domain": [150.0, 3000.0], "nice": False}
    assert lines["encoding"]["y"]["title"] == (
        "Staff often or always burnt out because of their work (Q12b) (% of respondents)"
    )
    assert lines["encoding"]["strokeDash"]["scale"]["domain"] == ["95% limits", "99.8% limits"]
    assert len(dataset_rows(spec, "line")) == 4 * funnel.CURVE_POINTS
    label_data = spec["datasets"][labels["data"]["name"]]
    assert label_data == [], "no trust is outside the overdispersion-adjusted limits, so none is named"
    assert dots["encoding"]["color"]["scale"]["range"] == ["#D55E00", "#999999", "#0072B2"]


def test_funnel_on_real_2024_ambulance_trusts(real_data: Path) -> None:
    raw = pl.read_csv(real_data / EXTRACT, infer_schema_length=0).filter(
        (pl.col("Year") == "2024") & (pl.col("Benchmarking group") == "Ambulance Trusts")
    )
    items = raw.select(
        org_code=pl.col("ODS code"),
        survey_year=pl.col("Year").cast(pl.Int32),
        question_id=pl.lit("q12b"),
        pct_unfavourable=pl.col("Burned_out_rate").cast(pl.Float64),
        base=pl.col("Burned_out_base").cast(pl.Int64),
    )
    members = items.select("org_code", "survey_year", benchmarking_group=pl.lit("Ambulance Trusts"))
    points, mean = funnel.funnel_points(
        items,
        members,
        items.select("org_code", label=pl.col("org_code")),
        measure=settings.key_measure("funnel"),
        limits=settings.funnel_limits(),
        group="Ambulance Trusts",
        survey_year=2024,
    )
    # the extract's 11 ambulance-sector rows for 2024 (Burned_out_rate = Q12b often + always, Burned_out_base):
    # Σ base = 32842 and Σ rate × base / Σ base = 39.1236 %.
    # Overdispersion worked by hand (a plain-Python loop over the 11 rows, not this module): z_i winsorised at
    # the 10th/90th percentiles gives φ = 7.0472, τ² = 0.00055200. RRU row: Burned_out_base 6034,
    # Burned_out_rate 41.2888828818812 -> adjusted 99.8% upper limit
    # 39.1236 + 3.0902 × √(0.391236 × 0.608764 / 6034 + 0.000552) × 100 = 46.6391 (the plain binomial limit,
    # 41.0650, would have flagged RRU, RYE and RX7: three of eleven ambulance trusts)
    assert points.height == 11 and points["base"].sum() == 32842
    assert mean == pytest.approx(39.1236, abs=1e-4)
    rru = points.filter(pl.col("org_code") == "RRU").row(0, named=True)
    assert rru["phi"] == pytest.approx(7.04725, abs=1e-4)
    assert rru["tau2"] == pytest.approx(0.000552, rel=1e-3)
    assert rru["outer_hi"] == pytest.approx(46.6391, abs=1e-3)
    assert rru["outer_lo"] == pytest.approx(31.6081, abs=1e-3)
    # RYE 43.3809 (base 2221) is inside 47.0579; RX7 35.4549 (base 3545) inside 31.4340
    assert points.filter(pl.col("outlier")).is_empty()


def test_trends_compare_the_trust_with_its_group_each_year() -> None:
    rows = trends.trend_rows(rf.readiness_index(), rf.factor_scores(), org_code="ZA1")
    assert rows.height == 8 * 3
    index_2024 = rows.filter((pl.col("series") == trends.INDEX_SERIES) & (pl.col("survey_year") == 2024))
    # ambulance index 2024: 0.62, 0.10, -0.72, 0.05 -> median 0.075
    assert index_2024["value"].item() == pytest.approx(0.62)
    assert index_2024["group_median"].item() == pytest.approx(0.075)
    spec = trends.trust_trends(
        rf.readiness_index(),
        rf.factor_scores(),
        org_code="ZA1",
        trust_label="Synthetic Ambulance Trust A (ZA1)",
        scale=settings.scales()["factor"],
        caption=CAPTION,
    )
    assert_common_parts(spec, "Change readiness over time: Synthetic Ambulance Trust A (ZA1)")
    assert spec["facet"]["field"] == "series" and spec["columns"] == 2
    band = spec["spec"]["layer"][0]["encoding"]
    assert (band["y"]["field"], band["y2"]["field"]) == ("group_q25", "group_q75")
    assert band["x"]["title"] == "Survey year (autumn fieldwork)"


def test_spc_chart_colours_points_as_making_data_count() -> None:
    spec = trends.spc_chart(
        rf.spc_monthly(), rf.performance_measures(), org_code="ZA1", trust_label="ZA1 test", caption=CAPTION
    )
    assert_common_parts(spec, "statistical process control charts: ZA1 test")
    # one XmR chart per measure: a facet row each, headed by the measure's label and unit, with its own axes
    assert spec["facet"]["row"]["field"] == "panel" and spec["resolve"]["scale"] == {
        "x": "independent",
        "y": "independent",
    }
    rows = dataset_rows(spec, "panel")
    assert sorted({row["panel"] for row in rows}) == [
        "A&E attendances seen within 4 hours (% of attendances)",
        "Sickness absence rate (% of FTE days)",
    ]
    layers = spec["spec"]["layer"]
    assert layers[0]["encoding"]["y"]["title"] == "Value (unit in the panel heading)"
    limits = layers[1]
    assert limits["transform"] == [{"fold": ["mean", "lpl", "upl"], "as": ["line", "line_value"]}]
    assert limits["encoding"]["strokeDash"]["scale"] == {
        "domain": ["mean", "lpl", "upl"],
        "range": [[1, 0], [6, 4], [6, 4]],
    }
    colour = layers[2]["encoding"]["color"]
    assert colour["field"] == "point_label"
    assert colour["scale"]["range"] == list(SPC_COLOURS.values())
    assert colour["scale"]["range"][:3] == ["#7B7D7D", "#289DE0", "#FAB428"]
    points = [row for row in rows if row["measure"] == "ae_4hr_pct_all"]
    assert [row["point_label"] for row in points][2] == "Special cause: concern"
    assert (
        trends.spc_chart(rf.spc_monthly(), rf.performance_measures(), org_code="ZC1", trust_label="-", caption="")
        is None
    )
    with pytest.raises(ValueError, match="unknown point_type"):
        trends.spc_rows(
            rf.spc_monthly().with_columns(point_type=pl.lit("alarm")), rf.performance_measures(), org_code="ZA1"
        )


def test_validity_states_the_fitted_association_and_n(names: pl.DataFrame) -> None:
    summary, points = rf.index_validity()
    spec = validity.validity_chart(
        summary,
        points,
        names,
        rf.performance_measures(),
        scale=settings.scales()["index"],
        survey_year=2024,
        caption=CAPTION,
        notes=("Headings: Pearson r.", "Points: the published index."),
    ).to_dict()
    assert_common_parts(spec, "Does the index go with independent outcomes? Survey year 2024")
    assert spec["title"]["subtitle"][1:3] == ["Headings: Pearson r.", "Points: the published index."]
    headings = [panel["title"]["text"] for panel in spec["hconcat"]]
    assert headings == [
        "A&E attendances seen within 4 hours: coefficient 0.31 (interval -0.45 to 0.85), n = 6",
        "Sickness absence rate: coefficient -0.55 (interval -0.92 to 0.30), n = 6",
    ]
    fit = spec["hconcat"][1]["layer"][1]
    assert fit["transform"] == [{"regression": "outcome_value", "on": "index_score"}]
    assert spec["hconcat"][1]["layer"][0]["encoding"]["y"]["title"] == "Sickness absence rate (% of FTE days)"


def test_spc_summary_shares_points_by_variation_type() -> None:
    # synthetic counts, shaped like SELECT measure, point_type, count(*) FROM spc_monthly GROUP BY ALL
    counts = pl.DataFrame(
        {
            "measure": ["ae_4hr_pct_all", "ae_4hr_pct_all", "sickness_absence_pct"],
            "point_type": ["common_cause", "special_cause_concern", "common_cause"],
            "points": [90, 10, 12],
        }
    )
    spec = export.chart_spec(trends.spc_summary_chart(counts, rf.performance_measures(), caption=CAPTION))
    assert_common_parts(spec, "Special-cause variation in the monthly performance series")
    assert spec["encoding"]["x"]["stack"] == "normalize"
    assert spec["encoding"]["x"]["title"] == "Share of monthly points, all organisations (proportion)"
    assert spec["encoding"]["color"]["scale"]["range"] == list(SPC_COLOURS.values())
    rows = dataset_rows(spec, "point_label")
    assert [(r["label"], r["point_label"], r["points"]) for r in rows] == [
        ("A&E attendances seen within 4 hours", "Common cause variation", 90),
        ("A&E attendances seen within 4 hours", "Special cause: concern", 10),
        ("Sickness absence rate", "Common cause variation", 12),
    ]


def test_markdown_image_embeds_a_png() -> None:
    markdown = export.markdown_image(svg='<svg xmlns="http://www.w3.org/2000/svg" width="4" height="2"/>', alt_text="x")
    assert markdown.startswith("![x](data:image/png;base64,iVBORw0KGgo")  # the PNG signature, base64


def test_board_sentence_reads_as_one_sentence(barrier_names: dict[str, str]) -> None:
    row = (
        rf.readiness_index().filter((pl.col("org_code") == "ZA1") & (pl.col("survey_year") == 2024)).row(0, named=True)
    )
    sentence = board_sentence(
        row,
        "Synthetic Ambulance Trust A",
        {str(k): v for k, v in rf.FACTOR_NAMES.items()},
        barrier_names,
        settings.support_types(),
    )
    assert sentence == (
        "In the 2024 NHS Staff Survey, Synthetic Ambulance Trust A scores 0.62 on the change-readiness index "
        "(90% interval 0.35 to 0.88), ranking 1st of 3 Ambulance Trusts (somewhere between 1st and 2nd with 90% "
        "confidence); its weakest factors are “An enabling environment which supports and drives change” and "
        "“Resources and support for change”, and its weakest barrier is headspace to make change happen, so the "
        "suggested national support is Type 2 “Proactive support” (practical help to change: dedicated resources, "
        "time and improvement expertise)."
    )
    unranked = rf.readiness_index().filter((pl.col("org_code") == "ZA4") & (pl.col("survey_year") == 2024))
    text = board_sentence(unranked.row(0, named=True), "Trust D", {}, barrier_names, settings.support_types())
    assert "listed, not ranked, among Ambulance Trusts because only 40% of the index could be measured" in text
    assert "suggested national support is" not in text
    # once the index method publishes support_status, a type is named only where its rule gives one
    held_back = {**row, "support_status": "no clear weakest barrier", "suggested_support_type": None}
    text = board_sentence(held_back, "Trust A", {}, barrier_names, settings.support_types())
    assert text.endswith(
        "its weakest barrier is headspace to make change happen; no national support type is suggested "
        "(no clear weakest barrier)."
    )
    given = {**row, "support_status": "suggested"}
    text = board_sentence(given, "Trust A", {}, barrier_names, settings.support_types())
    assert text.endswith(
        "so the suggested national support is Type 2 “Proactive support” (practical help to "
        "change: dedicated resources, time and improvement expertise)."
    )


def test_export_writes_png_svg_and_standalone_html(tmp_path: Path, names: pl.DataFrame) -> None:
    chart = league.league_table(
        rf.readiness_index(),
        names,
        group=rf.COMMUNITY,
        survey_year=2024,
        scale=settings.scales()["index"],
        caption=CAPTION,
    )
    paths = export.save_chart(chart, tmp_path, "league")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths["svg"].read_text()
    assert svg.startswith("<svg") and "Synthetic Community Trust A (ZC1)" in svg
    html = export.standalone_html(chart)
    assert "<script src=" not in html and "vegaEmbed" in html and "Synthetic Community Trust C" in html
    assert "</script>" not in export.spec_json_for_html({"text": "</script>"})


def test_a_filled_spec_is_what_altair_writes_for_the_same_chart() -> None:
    """The per-trust charts fill a body built once; the result must be the spec Altair composes for that trust."""
    rows = trends.spc_rows(rf.spc_monthly(), rf.performance_measures(), org_code="ZA1")
    filled = trends.spc_chart_from_rows(rows, trust_label="ZA1 test", caption=CAPTION)
    composed = (
        alt.FacetChart.from_dict({**filled, "datasets": {}, "data": {"values": []}}, validate=False)
        .properties(data=rows.with_columns(panel=pl.format("{} ({})", "label", "unit")))
        .to_dict()
    )
    (name,) = composed["datasets"]
    assert composed["data"] == {"name": name}
    assert composed["datasets"][name] == filled["datasets"][export.ROWS]
    assert composed["datasets"][name][0]["period_month"] == "2024-01-01T00:00:00"  # dates as Altair writes them
    assert {k: v for k, v in composed.items() if k not in ("data", "datasets")} == {
        k: v for k, v in filled.items() if k not in ("data", "datasets")
    }
    other = trends.spc_chart_from_rows(
        trends.spc_rows(rf.spc_monthly(), rf.performance_measures(), org_code="ZA2"), trust_label="ZA2", caption=""
    )
    assert other["spec"] is filled["spec"]  # one body for every trust
    with pytest.raises(ValueError, match="named dataset ROWS"):
        export.body_spec(alt.Chart(rows).mark_point().encode(x="value:Q"))


def test_spc_panels_below_twelve_months_become_a_table_and_every_panel_names_its_months() -> None:
    rows = trends.spc_rows(rf.spc_monthly(), rf.performance_measures(), org_code="ZA1")
    # keep all 12 months of A&E (Jan-Dec 2024) and only the first 2 of sickness absence
    rows = rows.filter((pl.col("measure") == "ae_4hr_pct_all") | (pl.col("period_month") < date(2024, 3, 1)))
    long, short = spc_panels.split_series(rows)
    assert long["measure"].unique().to_list() == ["ae_4hr_pct_all"]
    assert long["label"].unique().item().endswith(", Jan 2024 to Dec 2024 (12 months)")
    (series,) = short
    assert (series.months, series.points) == ("Jan 2024 to Feb 2024", 2)
    # value = 5.0 + 1.0 × ((month % 4) − 1.5) / 2: January 4.75, February 5.25
    assert series.rows == [{"month": "January 2024", "value": "4.75"}, {"month": "February 2024", "value": "5.25"}]
    assert spc_panels.month_span(pl.Series([date(2025, 6, 1)])) == "June 2025 only"


def test_spc_panels_split_for_every_trust_at_once_are_each_trusts_own_split() -> None:
    za1 = rf.spc_monthly()
    # a second trust, ZA2, with only the first two of ZA1's months: all its series are short, so no chart rows
    za2 = za1.filter(pl.col("period_month") < date(2024, 3, 1)).with_columns(org_code=pl.lit("ZA2"))
    rows = trends.all_spc_rows(pl.concat([za2, za1]), rf.performance_measures())
    assert rows["org_code"].head(1).item() == "ZA1"  # sorted by org_code, measure and month
    split = spc_panels.split_series_by_trust(rows)
    assert sorted(split) == sorted(rows["org_code"].unique().to_list())
    for code, (long, short) in split.items():
        own_long, own_short = spc_panels.split_series(rows.filter(pl.col("org_code") == code))
        assert long.equals(own_long) and short == own_short
    za2_long, za2_short = split["ZA2"]
    assert za2_long.is_empty() and {s.points for s in za2_short} == {2}
    assert len(za2_short) == rows.filter(pl.col("org_code") == "ZA2")["measure"].n_unique()
