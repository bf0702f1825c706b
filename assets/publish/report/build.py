"""Build the offline HTML report from frames: index.html, one page per benchmarking group, one per trust.

Pure apart from writing the folder: frames in, folder out. Pages embed their Vega-Lite specs (data included) and
share one local copy of the Vega libraries (assets/vega.js, ~900 KB), so they open from disk with no network.
The report is built in `report.tmp-<pid>` beside the target and swapped in whole (assets/publish/atomic.py).
"""

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import polars as pl

from assets.publish.atomic import building_directory
from assets.publish.charts import export, funnel, heatmap, league, profile, settings, spc_panels, trends, validity
from assets.publish.charts.common import caption, decimals_to_double
from assets.publish.charts.vega_bundle import written_in_background
from assets.publish.charts.wording import board_sentence, interval_label, rank_text, support_type_words
from assets.publish.report import context as trust_context
from assets.publish.report import drivers as driver_rules
from assets.publish.report.advice import probability_words, support_advice

HERE = Path(__file__).parent
MANIFEST = "report.json"
# what each chart family is drawn from, for its caption
SOURCES = {
    "index": "NHS Staff Survey {year} (NHS England) and NHS performance statistics, scored by nhs-change-readiness",
    "funnel": "NHS Staff Survey {year} (NHS England), organisational results",
    "spc": "NHS England and NHS Digital monthly statistics (performance_monthly), limits by nhs-change-readiness",
    "validity": "nhs-change-readiness index_validity, survey year {year}",
}


HEADINGS = {
    "profile": "Factors and barriers against the group",
    "trends": "Survey years compared",
    "spc": "Monthly performance as control charts",
    "league": "Where each trust stands in the group",
    "heatmap": "The seven success factors, trust by trust",
    "funnel": "Burnout against the number of respondents",
    "validity": "The index against independent outcomes",
}


@dataclass(frozen=True)
class ReportInputs:
    """The published tables the report draws; the optional ones add charts when present."""

    survey_year: int
    readiness_index: pl.DataFrame
    factor_scores: pl.DataFrame
    barrier_scores: pl.DataFrame
    names: pl.DataFrame  # org_code, org_name, label: charts.wording.trust_names
    built_on: date
    staff_survey_items: pl.DataFrame | None = None
    spc_monthly: pl.DataFrame | None = None
    performance_measures: pl.DataFrame | None = None
    validity_summary: pl.DataFrame | None = None
    validity_points: pl.DataFrame | None = None
    # every indicator with its factor or barrier, source, periods and rationale, for the methodology page
    indicator_catalogue: pl.DataFrame | None = None
    # the survey year's rows of `indicators`, for the trust pages' drivers tables
    indicators: pl.DataFrame | None = None
    # replaces every source caption, e.g. to mark synthetic inputs as such
    data_note: str | None = None
    # subtitle lines saying what the validity headings and points are, when they are not the same estimate
    validity_notes: tuple[str, ...] = ()
    # every year on the same indicators; trend charts draw it (factor_scores only where it is absent)
    readiness_trend: pl.DataFrame | None = None
    # trust context beside the index (issue 15): trust_context, index_beside_oversight, index_periods
    trust_context: pl.DataFrame | None = None
    index_beside_oversight: pl.DataFrame | None = None
    index_periods: pl.DataFrame | None = None
    # the whole index_validity table: its official_score_agreement and incremental_validity rows
    index_validity: pl.DataFrame | None = None


@dataclass
class ReportSummary:
    path: Path
    trusts: int
    groups: int
    pages: int
    charts: int
    files: int
    bytes: int
    seconds: float
    skipped_charts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageChart:
    name: str
    alt: str
    heading: str
    spec_json: str
    csv: str
    images: dict[str, str]
    note: str = ""


# chart text no smaller than 11 px (WCAG-minded; the charts' defaults were 10 px)
READABLE_CONFIG: dict[str, dict[str, int]] = {
    "axis": {"labelFontSize": 11, "titleFontSize": 12},
    "legend": {"labelFontSize": 11, "titleFontSize": 12},
    "header": {"labelFontSize": 12, "titleFontSize": 12},
    "title": {"subtitleFontSize": 11},
    "text": {"fontSize": 11},
}


def readable(spec: dict[str, Any], description: str) -> dict[str, Any]:
    """The spec with its text alternative as Vega's `description` (which Vega puts in the SVG's aria-label, where
    it would otherwise write "Vega visualization") and chart text of at least 11 px."""
    config = dict(spec.get("config", {}))
    for part, sizes in READABLE_CONFIG.items():
        config[part] = {**config.get(part, {}), **sizes}
    return {**spec, "description": description, "config": config}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _Writer:
    """Writes pages, CSVs and images into the build folder and counts what it wrote."""

    def __init__(self, folder: Path, inputs: ReportInputs) -> None:
        self.folder = folder
        self.inputs = inputs
        self.env = _templates()
        self.pages = 0
        self.charts = 0

    def caption(self, family: str) -> str:
        source = self.inputs.data_note or SOURCES[family].format(year=self.inputs.survey_year)
        return caption(source, self.inputs.built_on)

    def csv(self, frame: pl.DataFrame, relative: str) -> str:
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
        return relative

    def chart(
        self,
        name: str,
        alt_text: str,
        chart: export.Chart | dict[str, Any],
        rows: pl.DataFrame,
        csv_path: str,
        image_stem: str | None = None,
        note: str = "",
    ) -> PageChart:
        spec = readable(export.chart_spec(chart, validate=False), alt_text)
        images = {}
        if image_stem:
            paths = export.save_chart(spec, self.folder / "images", image_stem)
            images = {kind: f"images/{path.name}" for kind, path in paths.items()}
        self.charts += 1
        return PageChart(
            name=name,
            alt=alt_text,
            heading=HEADINGS.get(name, name.capitalize()),
            spec_json=export.spec_json_for_html(spec),
            csv=self.csv(rows, csv_path),
            images=images,
            note=note,
        )

    def page(self, relative: str, template: str, root: str, title: str, **context: Any) -> None:
        html = self.env.get_template(template).render(
            root=root,
            page_title=title,
            survey_year=self.inputs.survey_year,
            built_on=self.inputs.built_on.isoformat(),
            data_note=self.inputs.data_note,
            interval_label=interval_label(),
            **context,
        )
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        self.pages += 1


def _year_index(inputs: ReportInputs) -> pl.DataFrame:
    index = decimals_to_double(inputs.readiness_index).filter(pl.col("survey_year") == inputs.survey_year)
    if index.is_empty():
        raise ValueError(f"readiness_index has no rows for survey year {inputs.survey_year}")
    return (
        index.join(inputs.names.select("org_code", "org_name", "label"), on="org_code", how="left")
        .with_columns(org_name=pl.coalesce("org_name", "org_code"), label=pl.coalesce("label", "org_code"))
        .sort("benchmarking_group", "rank_in_group", "org_name", nulls_last=True)
    )


def _trust_entries(year_index: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "code": row["org_code"],
            "name": row["org_name"],
            "group": row["benchmarking_group"],
            "url": f"trusts/{row['org_code']}.html",
            "index_text": f"{row['index_score']:.2f} ({row['index_lo']:.2f} to {row['index_hi']:.2f})"
            if row["index_score"] is not None
            else "not measured",
            "rank_text": rank_text(row["rank_in_group"], row["rank_lo"], row["rank_hi"], row["n_in_group"]),
            "index_sort": "" if row["index_score"] is None else f"{row['index_score']:.4f}",
            "rank_sort": "" if row["rank_in_group"] is None else str(row["rank_in_group"]),
        }
        for row in year_index.iter_rows(named=True)
    ]


def _group_page(writer: _Writer, inputs: ReportInputs, group: str, members: pl.DataFrame) -> list[str]:
    """Writes groups/<slug>.html; returns the names of charts it could not draw for lack of data."""
    year, group_slug, cap = inputs.survey_year, slug(group), writer.caption("index")
    scales = settings.scales()
    charts = [
        writer.chart(
            "league",
            f"League table of the change-readiness index for {group}, with {interval_label()}s",
            league.league_table(
                inputs.readiness_index, inputs.names, group=group, survey_year=year, scale=scales["index"], caption=cap
            ),
            league.league_rows(inputs.readiness_index, inputs.names, group, year),
            f"data/groups/{group_slug}-league.csv",
        ),
        writer.chart(
            "heatmap",
            f"Heatmap of the seven success factors for each trust in {group}",
            heatmap.factor_heatmap(
                inputs.readiness_index, inputs.factor_scores, inputs.names, group=group, survey_year=year, caption=cap
            ),
            heatmap.heatmap_rows(
                inputs.readiness_index, inputs.factor_scores, inputs.names, group=group, survey_year=year
            ),
            f"data/groups/{group_slug}-heatmap.csv",
        ),
    ]
    skipped = []
    measure = settings.key_measure("funnel")
    try:
        if inputs.staff_survey_items is None:
            raise ValueError("no staff_survey_items")
        options = dict(measure=measure, limits=settings.funnel_limits(), group=group, survey_year=year)
        points, _ = funnel.funnel_points(inputs.staff_survey_items, inputs.readiness_index, inputs.names, **options)
        charts.append(
            writer.chart(
                "funnel",
                f"Funnel plot of {measure.label} against the number of respondents, {group}",
                funnel.funnel_plot(
                    inputs.staff_survey_items,
                    inputs.readiness_index,
                    inputs.names,
                    caption=writer.caption("funnel"),
                    **options,
                ),
                points,
                f"data/groups/{group_slug}-funnel-{measure.question_id}.csv",
            )
        )
    except ValueError as reason:
        skipped.append(f"funnel for {group}: {reason}")
    ranked = members.filter(pl.col("rank_in_group").is_not_null()).height
    writer.page(
        f"groups/{group_slug}.html",
        "group.html",
        "../",
        group,
        group=group,
        ranked=ranked,
        unranked=members.height - ranked,
        charts=charts,
        trusts=_trust_entries(members),
    )
    return skipped


def _weak_areas(
    inputs: ReportInputs,
    row: dict[str, Any],
    names: dict[str, dict[str, str]],
    context: "_DriverContext | None",
) -> list[dict[str, Any]]:
    """For each area the index marks weak: its indicators furthest below the group and the peers to learn from."""
    if context is None:
        return []
    areas = []
    for kind, area in driver_rules.weak_areas(row):
        key = (row["org_code"], kind, area)
        label = (
            f"Factor {area}: {names['factor'].get(area, area)}"
            if kind == "factor"
            else (f"Barrier: {names['barrier'].get(area, area)}")
        )
        probability, among_two, of, note = _weak_probability(context, key, row)
        areas.append(
            {
                "label": label,
                "drivers": context.drivers.get(key, []),
                "peers": context.peers.get(key, []),
                "probability": probability,
                "among_two": among_two,
                "probability_of": of,
                "probability_note": note,
                "probability_words": probability_words(probability) if probability is not None else None,
            }
        )
    return areas


def _weak_probability(
    context: "_DriverContext", key: tuple[str, str, str], row: dict[str, Any]
) -> tuple[float | None, bool, str, str]:
    """(probability, whether it is of being among the two weakest, else what it is of being, a note) for a weak area:
    weakest_factor_2 is named for being among the trust's two lowest factors (p_two_weakest), the others for being
    the lowest (p_weakest)."""
    _, kind, area = key
    shown = context.probabilities.get(key, {})
    if kind == "factor" and area == str(row.get("weakest_factor_2")):
        if shown.get("p_two_weakest") is not None:
            return shown["p_two_weakest"], True, "", ""
        return (
            shown.get("p_weakest"),
            False,
            "single weakest factor",
            "It is named here for being among the two weakest, a probability this build does not publish.",
        )
    return shown.get("p_weakest"), False, f"weakest {kind}", ""


@dataclass(frozen=True)
class _DriverContext:
    """Every trust's drivers, peers to learn from and probability of being weakest, by (org_code, kind, area)."""

    drivers: dict[tuple[str, ...], list[dict[str, Any]]]
    peers: dict[tuple[str, ...], list[dict[str, Any]]]
    # p_weakest and p_two_weakest of each (org_code, kind, area), where factor_scores/barrier_scores publish them
    probabilities: dict[tuple[str, ...], dict[str, float | None]]


AREA_COLUMNS = {"factor": "factor_id", "barrier": "barrier"}


def _driver_context(inputs: ReportInputs) -> _DriverContext | None:
    """The drivers of every trust of the survey year, in one pass over `indicators` and the score tables."""
    if inputs.indicators is None or inputs.indicator_catalogue is None:
        return None
    year = pl.col("survey_year") == inputs.survey_year
    year_rows = decimals_to_double(inputs.indicators).filter(year)
    scores = {
        kind: decimals_to_double(frame).filter(year)
        for kind, frame in (("factor", inputs.factor_scores), ("barrier", inputs.barrier_scores))
    }
    areas = driver_rules.weak_area_frame(decimals_to_double(inputs.readiness_index).filter(year).iter_rows(named=True))
    found = driver_rules.drivers(
        year_rows,
        driver_rules.group_statistics(year_rows),
        inputs.indicator_catalogue,
        areas,
        driver_rules.indicator_units(inputs.indicator_catalogue, inputs.trust_context, inputs.performance_measures),
    )
    peers = pl.concat(
        [
            driver_rules.learn_from(
                scores[kind], inputs.names, areas.filter(pl.col("kind") == kind), area_column=column
            )
            for kind, column in AREA_COLUMNS.items()
        ],
        how="vertical_relaxed",
    )
    probabilities: dict[tuple[str, ...], dict[str, float | None]] = {}
    for kind, column in AREA_COLUMNS.items():
        published = [c for c in ("p_weakest", "p_two_weakest") if c in scores[kind].columns]
        for shown in (
            scores[kind].select("org_code", pl.col(column).cast(pl.String).alias("area"), *published).to_dicts()
        ):
            probabilities.setdefault((shown.pop("org_code"), kind, shown.pop("area")), shown)
    return _DriverContext(
        drivers=driver_rules.by_area(found, driver_rules.AREA_KEYS),
        peers=driver_rules.by_area(peers, driver_rules.PEER_KEYS),
        probabilities=probabilities,
    )


@dataclass(frozen=True)
class _TrustFrames:
    """What each trust page draws, computed for every trust at once and split by org_code: filtering the year's
    tables again for each of about 210 pages took some 30,000 small Polars operations."""

    profile: dict[str, pl.DataFrame]
    trend: dict[str, pl.DataFrame]
    no_trend: pl.DataFrame
    trend_notes: dict[str, str]
    no_trend_note: str
    spc: dict[str, tuple[pl.DataFrame, list[spc_panels.ShortSeries]]]
    context_sections: dict[str, list[dict[str, Any]]] | None
    context_codes: dict[str, str]
    oversight: dict[str, dict[str, Any]] | None
    uncovered: list[dict[str, Any]]


def _by_org(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    return {str(k[0]): v for k, v in frame.partition_by("org_code", as_dict=True, include_key=False).items()}


def _trust_frames(inputs: ReportInputs, names: dict[str, dict[str, str]]) -> _TrustFrames:
    year = inputs.survey_year
    trend = trends.all_trend_rows(
        inputs.readiness_index,
        inputs.readiness_trend if inputs.readiness_trend is not None else inputs.factor_scores,
    )
    spc = (
        spc_panels.split_series_by_trust(trends.all_spc_rows(inputs.spc_monthly, inputs.performance_measures))
        if inputs.spc_monthly is not None and inputs.performance_measures is not None
        else {}
    )
    oversight = None
    if inputs.index_beside_oversight is not None:
        oversight = {}
        for row in inputs.index_beside_oversight.filter(pl.col("survey_year") == year).iter_rows(named=True):
            oversight.setdefault(row["org_code"], row)
    return _TrustFrames(
        profile=_by_org(
            profile.all_profile_rows(
                inputs.readiness_index,
                inputs.factor_scores,
                inputs.barrier_scores,
                names["barrier"],
                survey_year=year,
            )
        ),
        trend=_by_org(trend),
        no_trend=trend.clear().drop("org_code"),
        trend_notes=trend_captions(inputs.readiness_trend) if inputs.readiness_trend is not None else {},
        no_trend_note=NO_TREND_TABLE if inputs.readiness_trend is None else NO_TREND_ROWS,
        spc=spc,
        context_sections=trust_context.context_sections_by_code(inputs.trust_context)
        if inputs.trust_context is not None
        else None,
        context_codes=trust_context.context_codes(inputs.index_beside_oversight, year),
        oversight=oversight,
        uncovered=trust_context.uncovered_periods(inputs.index_periods, year)
        if inputs.index_periods is not None
        else [],
    )


def _numbers(frame: pl.DataFrame) -> dict[str, Any]:
    """A chart's rows as a table for the page (its text alternative): floats to 2 decimals, dates as written."""
    shown = frame.select([c for c in frame.columns if frame[c].dtype != pl.Object])
    return {
        "columns": shown.columns,
        "rows": [
            [f"{v:.2f}" if isinstance(v, float) else ("" if v is None else str(v)) for v in r]
            for r in shown.iter_rows()
        ],
    }


def _trust_page(
    writer: _Writer,
    inputs: ReportInputs,
    row: dict[str, Any],
    names: dict[str, dict[str, str]],
    frames: _TrustFrames,
    context: "_DriverContext | None" = None,
) -> None:
    code, label, year = row["org_code"], row["label"], inputs.survey_year
    scales, cap = settings.scales(), writer.caption("index")
    profile_rows = frames.profile[code]
    trend_rows = frames.trend.get(code, frames.no_trend)
    trend_note = frames.trend_notes.get(code, frames.no_trend_note)
    charts = [
        writer.chart(
            "profile",
            f"Profile of {label}: seven success factors and four barriers against the group",
            profile.profile_chart(
                profile_rows,
                trust_label=label,
                survey_year=year,
                group=row["benchmarking_group"],
                support_words=support_type_words(row["suggested_support_type"], settings.support_types()),
                factor_scale=scales["factor"],
                barrier_scale=scales["barrier"],
                caption=cap,
            ),
            profile_rows,
            f"data/trusts/{code}-profile.csv",
        ),
        writer.chart(
            "trends",
            f"The index and the seven factors of {label} by survey year against its group",
            trends.trends_chart(
                trend_rows,
                trust_label=label,
                scale=scales["factor"],
                caption=caption(trend_source(trend_rows, inputs.data_note), inputs.built_on),
            ),
            trend_rows,
            f"data/trusts/{code}-trends.csv",
            note=trend_note,
        ),
    ]
    chart_rows = [profile_rows, trend_rows]
    long_rows, short_series = frames.spc.get(code, (None, []))
    if long_rows is not None and not long_rows.is_empty():
        charts.append(
            writer.chart(
                "spc",
                f"Monthly performance of {label} as statistical process control charts",
                trends.spc_chart_from_rows(long_rows, trust_label=label, caption=writer.caption("spc")),
                long_rows,
                f"data/trusts/{code}-spc.csv",
            )
        )
        chart_rows.append(long_rows)
    numbers = [{"heading": chart.heading, **_numbers(frame)} for chart, frame in zip(charts, chart_rows, strict=True)]
    sentence = board_sentence(row, row["org_name"], names["factor"], names["barrier"], settings.support_types())
    sections = frames.context_sections
    writer.page(
        f"trusts/{code}.html",
        "trust.html",
        "../",
        row["org_name"],
        name=row["org_name"],
        code=code,
        group=row["benchmarking_group"],
        group_url=f"groups/{slug(row['benchmarking_group'])}.html",
        sentence=sentence,
        charts=charts,
        short_series=short_series,
        weak_areas=_weak_areas(inputs, row, names, context),
        advice=support_advice(row, support_type_words(row["suggested_support_type"], settings.support_types())),
        drivers_available=context is not None,
        numbers=numbers,
        spc_minimum=spc_panels.default_rules().short_segment_points,
        context_sections=None
        if sections is None
        else sections.get(frames.context_codes.get(code, code)) or trust_context.no_context_sections(),
        oversight=None if frames.oversight is None else frames.oversight.get(code),
        uncovered=frames.uncovered,
        weak_status=_weak_status(row),
    )


def trend_source(trend_rows: pl.DataFrame, data_note: str | None) -> str:
    """The trend chart's source line naming the survey years it actually shows."""
    if data_note:
        return data_note
    years = sorted(trend_rows["survey_year"].unique().to_list())
    shown = f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0]) if years else "no year"
    return f"NHS Staff Survey {shown} (NHS England), every year on the same indicators (readiness_trend)"


NO_TREND_TABLE = "Each year rests on that year's own indicators (no readiness_trend in this build)."
NO_TREND_ROWS = "readiness_trend has no index rows for this trust."


def trend_captions(readiness_trend: pl.DataFrame) -> dict[str, str]:
    """Per trust: each year's indicator set of its index in readiness_trend, in words, for the chart's caption."""
    rows = (
        readiness_trend.filter(pl.col("component") == "index")
        .select("org_code", "survey_year", "n_indicators", "indicator_set")
        .sort("org_code", "survey_year", maintain_order=True)
    )
    sets: dict[str, dict[str, list[str]]] = {}
    for code, year, n, indicator_set in rows.iter_rows():
        sets.setdefault(code, {}).setdefault(str(indicator_set), []).append(f"{year}: {n} indicators")
    return {
        code: "Indicator set of the index each year: "
        + "; ".join(f"{name.split(':')[0]} ({', '.join(years)})" for name, years in by_set.items())
        + "."
        for code, by_set in sets.items()
    }


def trend_caption(readiness_trend: pl.DataFrame | None, org_code: str) -> str:
    """Each year's indicator set of the trust's index in readiness_trend, in words, for the chart's caption."""
    if readiness_trend is None:
        return NO_TREND_TABLE
    return trend_captions(readiness_trend.filter(pl.col("org_code") == org_code)).get(org_code, NO_TREND_ROWS)


def _weak_status(row: dict[str, Any]) -> dict[str, str | None]:
    """Why the page names no weakest factor or barrier, from the published status columns."""
    return {
        "factor": None if row.get("weakest_factor_1") else str(row.get("weakest_factor_status") or "not published"),
        "barrier": None if row.get("weakest_barrier") else str(row.get("weakest_barrier_status") or "not published"),
    }


def _area_names(inputs: ReportInputs) -> dict[str, dict[str, str]]:
    caveats = settings.factor_caveats()
    factors = inputs.factor_scores.select(pl.col("factor_id").cast(pl.String), "factor_name").unique()
    return {
        "factor": dict(factors.iter_rows()),
        "barrier": dict(caveats.filter(pl.col("area") == "barrier").select("area_id", "name").iter_rows()),
    }


def _write_assets(folder: Path, year_index: pl.DataFrame, groups: list[str]) -> None:
    assets = folder / "assets"
    assets.mkdir(exist_ok=True)  # vega.js arrives there from written_in_background
    for name in ("report.css", "report.js"):
        shutil.copyfile(HERE / "static" / name, assets / name)
    entries = [
        {"kind": "group", "code": "", "name": group, "group": group, "url": f"groups/{slug(group)}.html"}
        for group in groups
    ] + [
        {"kind": "trust", "code": e["code"], "name": e["name"], "group": e["group"], "url": e["url"]}
        for e in _trust_entries(year_index)
    ]
    (assets / "search-index.js").write_text(
        "window.REPORT_SEARCH_INDEX = " + json.dumps(entries, ensure_ascii=False, indent=0) + ";\n", encoding="utf-8"
    )


def _whole_tables(writer: _Writer, inputs: ReportInputs) -> list[dict[str, Any]]:
    tables = {
        "readiness_index": inputs.readiness_index,
        "factor_scores": inputs.factor_scores,
        "barrier_scores": inputs.barrier_scores,
        "spc_monthly": inputs.spc_monthly,
        "index_validity": inputs.validity_summary,
    }
    return [
        {"name": name, "csv": writer.csv(decimals_to_double(frame), f"data/{name}.csv"), "rows": frame.height}
        for name, frame in tables.items()
        if frame is not None
    ]


def _index_page(writer: _Writer, inputs: ReportInputs, year_index: pl.DataFrame, groups: list[str]) -> list[str]:
    charts, skipped = [], []
    if inputs.validity_summary is not None and inputs.validity_points is not None:
        measures = inputs.performance_measures
        if measures is None:
            measures = pl.DataFrame(schema={"measure": pl.String, "label": pl.String, "unit": pl.String})
        charts.append(
            writer.chart(
                "validity",
                "The readiness index against independent outcomes, one point per trust",
                validity.validity_chart(
                    inputs.validity_summary,
                    inputs.validity_points,
                    inputs.names,
                    measures,
                    scale=settings.scales()["index"],
                    survey_year=inputs.survey_year,
                    caption=writer.caption("validity"),
                    notes=inputs.validity_notes,
                ),
                validity.validity_rows(inputs.validity_summary, inputs.validity_points, inputs.names, measures),
                "data/validity.csv",
                image_stem="validity",
            )
        )
    else:
        skipped.append("validity: no index_validity frames")
    group_rows = [
        {
            "name": group,
            "url": f"groups/{slug(group)}.html",
            "trusts": members.height,
            "ranked": members.filter(pl.col("rank_in_group").is_not_null()).height,
            "unranked": members.filter(pl.col("rank_in_group").is_null()).height,
            "median": members["index_score"].median(),
            "top": members.filter(pl.col("rank_in_group") == 1)["org_name"].to_list(),
        }
        for group in groups
        for members in [year_index.filter(pl.col("benchmarking_group") == group)]
    ]
    caveats = settings.factor_caveats().with_columns(
        label=pl.when(pl.col("area") == "factor")
        .then(pl.format("Factor {}: {}", "area_id", "name"))
        .otherwise(pl.format("Barrier: {}", "name"))
    )
    indicators = []
    if inputs.indicator_catalogue is not None:
        catalogue = inputs.indicator_catalogue.sort("factor_id", "barrier", "indicator_id", nulls_last=True)
        indicators = catalogue.to_dicts()
        writer.csv(catalogue, "data/indicator_catalogue.csv")
    agreement = (
        trust_context.engagement_agreement(
            inputs.index_validity,
            inputs.survey_year,
            dict(inputs.performance_measures.select("measure", "label").iter_rows())
            if inputs.performance_measures is not None
            else None,
        )
        if inputs.index_validity is not None
        else []
    )
    uncovered = (
        trust_context.uncovered_periods(inputs.index_periods, inputs.survey_year)
        if inputs.index_periods is not None
        else []
    )
    writer.page(
        "methodology.html",
        "methodology.html",
        "",
        "Method and indicators",
        agreement=agreement,
        uncovered=uncovered,
        indicators=indicators,
        caveats=caveats.to_dicts(),
        support_types=settings.support_types().to_dicts(),
    )
    trusts = sorted(_trust_entries(year_index), key=lambda t: t["name"])
    writer.page(
        "index.html",
        "index.html",
        "",
        "Trusts and groups",
        agreement=agreement,
        uncovered=uncovered,
        groups=group_rows,
        trusts=trusts,
        charts=charts,
        downloads=_whole_tables(writer, inputs),
        has_catalogue=bool(indicators),
    )
    return skipped


def _folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _write_manifest(folder: Path, inputs: ReportInputs, year_index: pl.DataFrame, groups: list[str]) -> None:
    """What the report covers, for the checks and the Dagster UI to read without parsing pages."""
    manifest = {
        "survey_year": inputs.survey_year,
        "built_on": inputs.built_on.isoformat(),
        "groups": {group: f"groups/{slug(group)}.html" for group in groups},
        "trusts": {code: f"trusts/{code}.html" for code in year_index["org_code"].to_list()},
        "ranked_trusts": year_index.filter(pl.col("rank_in_group").is_not_null())["org_code"].to_list(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def build_report(inputs: ReportInputs, target: Path) -> ReportSummary:
    """Write the whole report for one survey year into `target`, replacing the previous report in one step."""
    started = time.perf_counter()
    year_index = _year_index(inputs)
    groups = sorted(year_index["benchmarking_group"].unique().to_list())
    names = _area_names(inputs)
    # the chart tests validate every chart function's spec; validating each object again as it is built costs time
    with building_directory(target) as folder, alt.utils.schemapi.debug_mode(False):
        with written_in_background(export.VEGA_LITE_VERSION, folder / "assets" / "vega.js"):
            writer = _Writer(folder, inputs)
            _write_assets(folder, year_index, groups)
            skipped = _index_page(writer, inputs, year_index, groups)
            for group in groups:
                group_index = year_index.filter(pl.col("benchmarking_group") == group)
                skipped += _group_page(writer, inputs, group, group_index)
            context = _driver_context(inputs)
            frames = _trust_frames(inputs, names)
            for row in year_index.iter_rows(named=True):
                _trust_page(writer, inputs, row, names, frames, context)
        _write_manifest(folder, inputs, year_index, groups)
        files, size = _folder_bytes(folder)
    return ReportSummary(
        path=target,
        trusts=year_index.height,
        groups=len(groups),
        pages=writer.pages,
        charts=writer.charts,
        files=files,
        bytes=size,
        seconds=time.perf_counter() - started,
        skipped_charts=skipped,
    )
