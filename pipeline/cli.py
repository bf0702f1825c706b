"""The `nhs-readiness` command line."""

import argparse
import sys
import textwrap
from contextlib import nullcontext
from datetime import date
from pathlib import Path

from pipeline import settings

EPILOG = textwrap.dedent(
    """\
    examples:
      nhs-readiness run                          # whole pipeline on the bundled real-data snapshot (offline)
      nhs-readiness run --years 2023-2024        # only these survey years
      nhs-readiness run --source web             # download the newest files from the official publishers
      nhs-readiness query "SELECT count(*) FROM staff_survey_items"
      nhs-readiness query "FROM data_dictionary WHERE table_name = 'organisations'" --format csv

    files (override with environment variables: a path or a file:// URI):
      published   data/published/nhs_change_readiness.duckdb   NHS_READINESS_PUBLISHED_DIR
      warehouse   data/work/warehouse.duckdb                    NHS_READINESS_WAREHOUSE
      raw cache   data/raw/                                     NHS_READINESS_RAW_DIR
      snapshot    data/snapshot/ (with its manifest.csv)        NHS_READINESS_SNAPSHOT_DIR
    """
)


def parse_years(text: str) -> set[int]:
    """'2024', '2021-2024' or '2021,2023' → set of years."""
    years: set[int] = set()
    try:
        for part in text.split(","):
            start, _, end = part.strip().partition("-")
            years.update(range(int(start), int(end or start) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year list such as 2024, 2021-2024 or 2021,2023") from None
    return years


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2024-04-01") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nhs-readiness",
        description=(
            "Change readiness of NHS trusts in England from public data: NHS Staff Survey, performance and "
            "workforce datasets, scored against the Health Foundation's seven success factors for change."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="materialise every asset in this process and publish the DuckDB file",
        description=(
            "Materialise every asset in this process (one progress line per asset), then publish "
            "data/published/nhs_change_readiness.duckdb atomically. On failure nothing published changes "
            "and the exit status is non-zero. Unchanged inputs are reused, so a rerun is quick."
        ),
        epilog="example:\n  nhs-readiness run --source snapshot --years 2021-2024",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--source",
        choices=["snapshot", "web"],
        default=settings.default_source_mode(),
        help="snapshot: real public files bundled in data/snapshot/ (offline, default); "
        "web: download from the official publishers into data/raw/",
    )
    run.add_argument("--years", type=parse_years, help="survey years to build, e.g. 2024 or 2021-2024 (default: all)")
    run.add_argument("--force", action="store_true", help="rebuild everything even when inputs are unchanged")

    query = commands.add_parser(
        "query",
        help="run read-only SQL against the published DuckDB file",
        description="Run read-only SQL against data/published/nhs_change_readiness.duckdb.",
        epilog=textwrap.dedent(
            """\
            examples:
              nhs-readiness query "SELECT * FROM organisations LIMIT 5"
              nhs-readiness query "FROM data_tables" --format json
            """
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    query.add_argument("sql", help="SQL to run (the file is opened read-only)")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    query.add_argument("--database", type=Path, help="another published file to query")
    add_spc_parser(commands)
    return parser


def add_spc_parser(commands: argparse._SubParsersAction) -> None:
    spc = commands.add_parser(
        "spc",
        help="XmR (SPC) chart of your own series from a CSV file, the Making Data Count way",
        description=(
            "Statistical process control of one series, following NHSRplotthedots v0.2: mean, process limits "
            "(mean ± 2.66 × mean moving range) and each point's type (common_cause, special_cause_improvement, "
            "special_cause_concern, special_cause_neutral_high or _low), printed as CSV with columns "
            "date, value, mean, lpl, upl, point_type. Dates are YYYY-MM-DD or DD/MM/YYYY; an empty value is a "
            "missing point."
        ),
        epilog=textwrap.dedent(
            """\
            examples:
              nhs-readiness spc waits.csv --date month --value waiting_list --improvement decrease
              nhs-readiness spc ae.csv --date period --value pct_4hr --fix-after 12 > ae_spc.csv
              nhs-readiness spc ae.csv --date period --value pct_4hr --rebase 2024-04-01
            """
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    spc.add_argument("file", type=Path, metavar="FILE.csv", help="CSV file with a header row")
    spc.add_argument("--date", required=True, metavar="COL", help="column holding each point's date")
    spc.add_argument("--value", required=True, metavar="COL", help="column holding each point's value")
    spc.add_argument(
        "--improvement",
        choices=["increase", "decrease", "neutral"],
        default="increase",
        help="which direction is better (default: increase)",
    )
    spc.add_argument(
        "--no-screen-outliers",
        action="store_true",
        help="keep moving ranges of 3.267 × their mean or more when setting the limits",
    )
    spc.add_argument("--fix-after", type=int, metavar="N", help="set the mean and limits from the first N points only")
    spc.add_argument(
        "--rebase", nargs="+", type=parse_date, default=[], metavar="DATE", help="start new limits at these dates"
    )


def command_run(args: argparse.Namespace) -> int:
    from pipeline.definitions import build_definitions
    from pipeline.incremental import forced_rebuild
    from pipeline.jobs import DOWNSTREAM_JOB
    from pipeline.progress import ProgressReporter
    from pipeline.runner import execute_plan, plan_full_build

    defs = build_definitions(source_mode=args.source)
    target = defs.resources["publish_target"].database_path
    print(f"nhs-readiness run · source: {args.source} · publishing to {target}", flush=True)
    if args.source == "web":
        from pipeline.fetch import show_notes_on_console

        show_notes_on_console()
        print(f"  downloads are cached in {defs.resources['source'].raw_dir}", flush=True)
    reporter = ProgressReporter()
    kept = f"The last good published file {target} {'was kept unchanged' if target.exists() else 'does not exist yet'}."
    try:
        with forced_rebuild() if args.force else nullcontext():
            outcome = execute_plan(defs, plan_full_build(defs, args.years), reporter)
    except Exception as error:
        if not storage_error(error):
            raise
        print(f"\nFAILED: {describe_instance_storage()} stopped answering: {innermost(error)}", file=sys.stderr)
        print(f"{kept} Bring the instance storage back and rerun.", file=sys.stderr)
        return 1
    for planned, reason in outcome.skipped:
        print(f"  - skipped {planned.label}: {reason}")
    if not outcome.ok:
        planned, reason = outcome.failed
        print(f"\nFAILED in {planned.label} after {outcome.seconds:.1f} s: {reason}", file=sys.stderr)
        print(kept, file=sys.stderr)
        if "DownloadError" in reason:
            print(
                "The publisher's file could not be downloaded and verified; the download cache was left as it "
                "was. Check the URL above, rerun later, or use --source snapshot to work offline.",
                file=sys.stderr,
            )
        return 1
    if not any(planned.job_name == DOWNSTREAM_JOB for planned in outcome.succeeded):
        print(f"\nNOTHING PUBLISHED: the downstream assets were skipped (above). {kept}", file=sys.stderr)
        return 1
    size = target.stat().st_size / 1e6
    print(f"\n{reporter.assets_done} assets materialised, {reporter.checks_passed} checks passed.")
    print(f"Published {target} ({size:.1f} MB) in {outcome.seconds:.1f} s.")
    return 0


def storage_error(error: BaseException) -> bool:
    """Did the Dagster instance's database (SQLAlchemy: PostgreSQL or SQLite) fail, rather than the pipeline?"""
    while error is not None:
        if type(error).__module__.split(".")[0] in ("sqlalchemy", "psycopg2", "dagster_postgres", "sqlite3"):
            return True
        error = error.__cause__ or error.__context__
    return False


def innermost(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error).strip().split("\n")[0]


def describe_instance_storage() -> str:
    """'the Dagster instance storage (PostgreSQL, DAGSTER_HOME=...)', from DAGSTER_HOME/dagster.yaml."""
    import os

    import yaml

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return "the Dagster instance storage (temporary, no DAGSTER_HOME)"
    config = Path(home) / "dagster.yaml"
    storage = (yaml.safe_load(config.read_text()) or {}).get("storage", {}) if config.exists() else {}
    kind = {"postgres": "PostgreSQL", "sqlite": "SQLite", "mysql": "MySQL"}.get(next(iter(storage), ""), "SQLite")
    return f"the Dagster instance storage ({kind}, settings {config})"


def command_query(args: argparse.Namespace) -> int:
    import duckdb
    import polars as pl

    path = args.database or Path(settings.default_published_dir()) / settings.PUBLISHED_DB_NAME
    if not path.exists():
        print(f"no published file at {path}: run `nhs-readiness run` first", file=sys.stderr)
        return 2
    con = duckdb.connect(str(path), read_only=True)
    try:
        frame = con.sql(args.sql).pl()
    except duckdb.Error as error:
        print(f"query failed: {error}", file=sys.stderr)
        return 1
    finally:
        con.close()
    if args.format == "csv":
        sys.stdout.write(frame.write_csv())
    elif args.format == "json":
        sys.stdout.write(frame.write_json() + "\n")
    else:
        with pl.Config(tbl_rows=min(frame.height, 200), tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            print(frame)
    return 0


def command_spc(args: argparse.Namespace) -> int:
    from assets.publish.spc.analyst_csv import spc_for_csv

    try:
        chart, warnings = spc_for_csv(
            args.file,
            args.date,
            args.value,
            args.improvement,
            screen_outliers=not args.no_screen_outliers,
            fix_after_n=args.fix_after,
            rebase_dates=args.rebase,
        )
    except ValueError as error:
        print(f"nhs-readiness spc: {error}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"nhs-readiness spc: warning: {warning}", file=sys.stderr)
    sys.stdout.write(chart.write_csv())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"run": command_run, "query": command_query, "spc": command_spc}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
