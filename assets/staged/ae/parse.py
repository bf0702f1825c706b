"""Parser for the monthly A&E attendances and emergency admissions CSV (MSitAE return, one row per provider).

Handles both header eras: the current one (booked appointments reported separately) and the older
"Number of A&E attendances …" one (2015 to August 2020, no booked-appointment columns); the England total
footer in any spelling (`TOTAL`, `Total`, `Total `), which current-layout files must end with (without it the
file was cut short); trailing spaces in names; empty trailing columns; a byte-order mark, Windows line endings and
thousands separators in counts.
"""

import re
from datetime import date
from pathlib import Path

import polars as pl

from assets.staged.files import csv_records, repeated_header
from assets.staged.performance.measures import (
    ParsedMonth,
    as_totals,
    count_rows,
    counts,
    finish,
    no_totals,
    percent_rows,
    require_within,
)
from pipeline.errors import InputDataError

ID_COLUMNS = {"period": "Period", "reported_org_code": "Org Code", "reported_org_name": "Org name"}
TWELVE_HOUR = "Patients who have waited 12+ hrs from DTA to admission"
# canonical count → header, per era; the older era had no booked-appointment columns (they count as none)
HEADER_ERAS: dict[str, dict[str, str]] = {
    "current": {
        "att_t1": "A&E attendances Type 1",
        "att_t2": "A&E attendances Type 2",
        "att_other": "A&E attendances Other A&E Department",
        "att_booked_t1": "A&E attendances Booked Appointments Type 1",
        "att_booked_t2": "A&E attendances Booked Appointments Type 2",
        "att_booked_other": "A&E attendances Booked Appointments Other Department",
        "over_t1": "Attendances over 4hrs Type 1",
        "over_t2": "Attendances over 4hrs Type 2",
        "over_other": "Attendances over 4hrs Other Department",
        "over_booked_t1": "Attendances over 4hrs Booked Appointments Type 1",
        "over_booked_t2": "Attendances over 4hrs Booked Appointments Type 2",
        "over_booked_other": "Attendances over 4hrs Booked Appointments Other Department",
        "dta_12h": TWELVE_HOUR,
    },
    "number_of": {
        "att_t1": "Number of A&E attendances Type 1",
        "att_t2": "Number of A&E attendances Type 2",
        "att_other": "Number of A&E attendances Other A&E Department",
        "over_t1": "Number of attendances over 4hrs Type 1",
        "over_t2": "Number of attendances over 4hrs Type 2",
        "over_other": "Number of attendances over 4hrs Other A&E Department",
        "dta_12h": TWELVE_HOUR,
    },
}
ATTENDANCES = ["att_t1", "att_t2", "att_other", "att_booked_t1", "att_booked_t2", "att_booked_other"]
OVER_4_HOURS = ["over_t1", "over_t2", "over_other", "over_booked_t1", "over_booked_t2", "over_booked_other"]
PERIOD_PATTERN = re.compile(r"(?i)([A-Z]+)[- ](\d{4})\s*$")
MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "JANUARY",
            "FEBRUARY",
            "MARCH",
            "APRIL",
            "MAY",
            "JUNE",
            "JULY",
            "AUGUST",
            "SEPTEMBER",
            "OCTOBER",
            "NOVEMBER",
            "DECEMBER",
        ),
        start=1,
    )
}


def _era(header: list[str], path: Path) -> tuple[str, dict[str, int]]:
    known = [*ID_COLUMNS.values(), *(h for columns in HEADER_ERAS.values() for h in columns.values())]
    repeated = repeated_header(header, known)
    if repeated:
        raise InputDataError("the header repeats this column", file=path, row=1, column=repeated)
    position = {name.strip(): i for i, name in enumerate(header) if name.strip()}
    missing_id = [h for h in ID_COLUMNS.values() if h not in position]
    if missing_id:
        raise InputDataError(f"header has no {missing_id[0]!r} column", file=path, row=1, column=missing_id[0])
    for era, columns in HEADER_ERAS.items():
        if all(h in position for h in columns.values()):
            return era, {
                **{k: position[h] for k, h in ID_COLUMNS.items()},
                **{k: position[h] for k, h in columns.items()},
            }
    # report against the era the header resembles most
    era, columns = max(HEADER_ERAS.items(), key=lambda item: sum(h in position for h in item[1].values()))
    missing = next(h for h in columns.values() if h not in position)
    raise InputDataError(f"header has no {missing!r} column (A&E {era} layout)", file=path, row=1, column=missing)


def data_month(period_text: str) -> date | None:
    """`MSitAE-APRIL-2025` → 2025-04-01."""
    match = PERIOD_PATTERN.search(period_text.strip())
    if not match or match.group(1).upper() not in MONTHS:
        return None
    return date(int(match.group(2)), MONTHS[match.group(1).upper()], 1)


def read_provider_counts(path: Path) -> tuple[pl.DataFrame, str]:
    """Every row of the file (providers and the total footer) with typed counts, and the header era."""
    records = csv_records(path)
    (_, header), body = records[0], [row for _, row in records[1:]]
    era, position = _era(header, path)
    width = max(position.values()) + 1
    for number, row in records[1:]:
        if len(row) < width:
            raise InputDataError(f"has {len(row)} columns, the header has {len(header)}", file=path, row=number)
        extra = [cell for cell in row[len(header) :] if cell.strip()]
        if extra:
            raise InputDataError(f"has values beyond the header ({extra[0]!r})", file=path, row=number)
    frame = pl.DataFrame(
        {name: [row[i].strip() for row in body] for name, i in position.items()},
        schema={name: pl.String for name in position},
    ).with_columns(source_row=pl.Series([number for number, _ in records[1:]], dtype=pl.Int64))
    labels = {canonical: header[position[canonical]].strip() for canonical in HEADER_ERAS[era]}
    frame = counts(frame, labels, file=path)
    absent = [c for c in ATTENDANCES + OVER_4_HOURS if c not in frame.columns]
    return frame.with_columns([pl.lit(0.0).alias(c) for c in absent]), era


def parse_ae_csv(path: Path, month: date, official_name: str | None = None) -> ParsedMonth:
    """Provider measures ae_4hr_pct_all, ae_4hr_pct_type1 and ae_12hr_dta_waits, and the file's TOTAL row."""
    frame, era = read_provider_counts(path)
    for row in frame.select("period", "source_row").iter_rows(named=True):
        if row["period"].strip().lower() == "total":
            continue
        found = data_month(row["period"])
        if found != month:
            raise InputDataError(
                f"period {row['period']!r} is not the data month {month:%B %Y} this file was loaded for",
                file=path,
                row=row["source_row"],
                column="Period",
            )
    frame = frame.with_columns(
        attendances=pl.sum_horizontal(ATTENDANCES),
        over_4_hours=pl.sum_horizontal(OVER_4_HOURS),
        attendances_t1=pl.col("att_t1") + pl.col("att_booked_t1"),
        over_4_hours_t1=pl.col("over_t1") + pl.col("over_booked_t1"),
    )
    require_within(
        frame,
        "over_4_hours_t1",
        "attendances_t1",
        file=path,
        column="Attendances over 4hrs Type 1",
        what="type 1 attendances over 4 hours",
    )
    require_within(
        frame,
        "over_4_hours",
        "attendances",
        file=path,
        column="Attendances over 4hrs Other Department",
        what="attendances over 4 hours (all types)",
    )
    is_total = pl.col("reported_org_code").str.to_lowercase() == "total"
    providers, total = frame.filter(~is_total), frame.filter(is_total)
    if era == "current" and total.is_empty():
        last = frame.row(-1, named=True)
        raise InputDataError(
            "no England TOTAL row after the last provider: every current-layout file ends with one, so this one "
            "was cut short (a truncated download?)",
            file=path,
            row=last["source_row"] + 1,
            column="Org Code",
        )
    duplicated = providers.filter(pl.col("reported_org_code").is_duplicated())
    if duplicated.height:
        first = duplicated.row(-1, named=True)
        raise InputDataError(
            f"provider {first['reported_org_code']} appears more than once",
            file=path,
            row=first["source_row"],
            column="Org Code",
        )

    def measures(rows: pl.DataFrame) -> pl.DataFrame:
        return finish(
            [
                percent_rows(
                    rows, "ae_4hr_pct_all", pl.col("attendances") - pl.col("over_4_hours"), pl.col("attendances")
                ),
                percent_rows(
                    rows,
                    "ae_4hr_pct_type1",
                    pl.col("attendances_t1") - pl.col("over_4_hours_t1"),
                    pl.col("attendances_t1"),
                ),
                count_rows(rows, "ae_12hr_dta_waits", pl.col("dta_12h")),
            ],
            source_file=official_name or path.name,
        )

    return ParsedMonth(
        measures=measures(providers),
        file_totals=as_totals(measures(total)) if total.height else no_totals(),
    )
