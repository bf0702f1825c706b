"""The `nhs-readiness` command line."""

import argparse
import gc
import os
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import NoReturn

from pipeline import settings

EPILOG = textwrap.dedent(
    """\
    examples:
      nhs-readiness run                          # whole pipeline on the bundled real-data snapshot (offline)
      nhs-readiness run --years 2023-2024        # only these survey years
      nhs-readiness run --source web             # download the newest files from the official publishers
      nhs-readiness run --force                  # rebuild everything, stale or not
      nhs-readiness ui                           # the Dagster UI on the instance `run` records its builds in
      nhs-readiness query "SELECT count(*) FROM staff_survey_items"
      nhs-readiness query "FROM data_dictionary WHERE table_name = 'organisations'" --format csv

    files (override with environment variables: a path or a file:// URI):
      published   data/published/nhs_change_readiness.duckdb   NHS_READINESS_PUBLISHED_DIR
      warehouse   data/work/warehouse.duckdb                    NHS_READINESS_WAREHOUSE
      raw cache   data/raw/                                     NHS_READINESS_RAW_DIR
      snapshot    data/snapshot/ (with its manifest.csv)        NHS_READINESS_SNAPSHOT_DIR
      instance    data/work/dagster_home/ (beside the warehouse) DAGSTER_HOME
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
            "and the exit status is non-zero. Dagster decides what is stale: an asset whose code, files and inputs are "
            "unchanged is not rebuilt, so a rerun is quick. One build at a time: a second one stops at once."
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
    run.add_argument("--force", action="store_true", help="rebuild everything even when nothing is stale")

    ui = commands.add_parser(
        "ui",
        help="start the Dagster UI (dagster dev) on the instance `run` records its builds in",
        description=(
            "Start `dagster dev` on the project's Dagster instance (data/work/dagster_home beside the warehouse, "
            "or DAGSTER_HOME when set), so the UI shows exactly what the last `nhs-readiness run` built."
        ),
    )
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    ui.add_argument("--port", type=int, default=3000, help="port (default: 3000)")

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
    query.add_argument(
        "sql",
        help="SQL to run; the file is opened read-only and statements that write or reach other files "
        "(COPY, EXPORT, ATTACH, INSTALL/LOAD, read_csv on a path) are refused with exit code 2",
    )
    query.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    query.add_argument("--database", type=Path, help="another published file to query")
    query.add_argument(
        "--allow-local-files",
        action="store_true",
        help="let the SQL read your own local files (read_csv, read_parquet, ...); writing is never allowed",
    )
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


def _stop_on_sigterm() -> None:
    """A stop signal ends a download's retry wait at once, then the build stops as on Ctrl-C (nothing published
    changes: the published file is only ever swapped in whole)."""
    import signal

    def stop(_signum: int, _frame: object) -> None:
        from pipeline.fetch.http import STOP

        STOP.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def command_run(args: argparse.Namespace) -> int:
    from pipeline.build_lock import BuildRunningError, build_lock
    from pipeline.settings import default_warehouse_path, local_path

    _stop_on_sigterm()
    try:
        warehouse = local_path(default_warehouse_path())
    except ValueError as error:  # a storage location given as an unsupported URI
        print(f"nhs-readiness run: {error}", file=sys.stderr)
        return 2
    try:
        with build_lock(warehouse) as lock:
            if lock.interrupted_pid is not None and not args.force:
                # a kill can leave the warehouse out of step with Dagster's record of it (docs/decisions.md)
                print(
                    f"nhs-readiness run: the previous build (PID {lock.interrupted_pid}) was killed before it "
                    "finished, so this build rebuilds everything once",
                    flush=True,
                )
                args.force = True
            return _build(args)
    except BuildRunningError as error:
        print(f"nhs-readiness run: {error}", file=sys.stderr)
        return 3


def _build(args: argparse.Namespace) -> int:
    from pipeline.dagster_home import dagster_home_path
    from pipeline.jobs import DOWNSTREAM_JOB
    from pipeline.progress import ProgressReporter
    from pipeline.runner import execute_plan, plan_full_build
    from pipeline.warehouse import WarehouseBusyError

    try:
        from pipeline.definitions import build_definitions  # its module builds the default definitions

        defs = build_definitions(source_mode=args.source)
    except ValueError as error:  # settings from the environment that cannot be used (NHS_READINESS_*)
        print(f"nhs-readiness run: {error}", file=sys.stderr)
        return 2
    if args.own_process:
        # Dagster, the libraries and the definitions live as long as the process: frozen, they are no longer
        # walked by each full collection during the build (docs/performance.md)
        gc.freeze()
    target = defs.resources["publish_target"].database_path
    print(f"nhs-readiness run · source: {args.source} · publishing to {target}", flush=True)
    if args.source == "web":
        from pipeline.fetch import show_notes_on_console
        from pipeline.fetch.reachability import offline_message

        offline = offline_message(defs.resources["source"].url_rewrites)
        if offline:
            print(f"nhs-readiness run: {offline}", file=sys.stderr)
            return 2
        show_notes_on_console()
        print(f"  downloads are cached in {defs.resources['source'].raw_dir}", flush=True)
    print(f"  Dagster instance: {dagster_home_path()} (see it with `nhs-readiness ui`)", flush=True)
    reporter = ProgressReporter()
    kept = f"The last good published file {target} {'was kept unchanged' if target.exists() else 'does not exist yet'}."
    try:
        outcome = execute_plan(defs, plan_full_build(defs, args.years), reporter, force=args.force)
    except WarehouseBusyError as error:  # held by a process outside the build lock: a UI or daemon run, a tool
        print(f"nhs-readiness run: {error}", file=sys.stderr)
        return 3
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
    if not outcome.current(DOWNSTREAM_JOB):
        print(f"\nNOTHING PUBLISHED: the downstream assets were skipped (above). {kept}", file=sys.stderr)
        return 1
    if not outcome.succeeded:
        print(f"\nNothing changed since the last build: {target} is current ({outcome.seconds:.1f} s).")
        return 0
    size = target.stat().st_size / 1e6
    print(
        f"\n{reporter.assets_done} assets materialised, {reporter.checks_passed} checks passed; "
        f"{len(outcome.unchanged)} steps unchanged."
    )
    print(f"Published {target} ({size:.1f} MB) in {outcome.seconds:.1f} s.")
    return 0


def command_ui(args: argparse.Namespace) -> int:
    """`dagster dev` on the project's instance, so the UI shows what `nhs-readiness run` built. The command
    becomes dagster dev (exec), so Ctrl-C and stop signals reach it directly."""
    import os

    from pipeline.dagster_home import use_project_instance

    home = use_project_instance()
    print(f"nhs-readiness ui · Dagster instance {home} · http://{args.host}:{args.port}", flush=True)
    os.chdir(settings.PROJECT_ROOT)
    workspace = str(settings.PROJECT_ROOT / "workspace.yaml")
    command = [sys.executable, "-m", "dagster", "dev", "-w", workspace, "-h", args.host, "-p", str(args.port)]
    os.execve(sys.executable, command, os.environ.copy())
    return 0  # not reached


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
    """'the Dagster instance storage (PostgreSQL at 127.0.0.1 port 5432, settings .../dagster.yaml)', from the
    instance's dagster.yaml and the environment it names; the server's address is said whatever the driver's own
    message holds (a server stopped mid-query says only that it closed the connection)."""
    import yaml

    from pipeline.dagster_home import dagster_home_path

    config = Path(dagster_home_path()) / "dagster.yaml"
    storage = (yaml.safe_load(config.read_text()) or {}).get("storage", {}) if config.exists() else {}
    name = next(iter(storage), "")
    kind = {"postgres": "PostgreSQL", "sqlite": "SQLite", "mysql": "MySQL"}.get(name, "SQLite")
    database = (storage.get(name) or {}).get(f"{name}_db") if name in ("postgres", "mysql") else None
    if isinstance(database, dict) and "hostname" in database:
        kind += f" at {_setting(database['hostname'])} port {_setting(database.get('port', 'default'))}"
    return f"the Dagster instance storage ({kind}, settings {config})"


def _setting(value: object) -> str:
    """A dagster.yaml value, literal or `{env: NAME}`, as this process sees it."""
    if isinstance(value, dict) and "env" in value:
        return os.environ.get(str(value["env"]), f"${value['env']} (unset)")
    return str(value)


def command_query(args: argparse.Namespace) -> int:
    import polars as pl

    from pipeline.query import QueryFailed, QueryRefused, run_query

    path = args.database or Path(settings.default_published_dir()) / settings.PUBLISHED_DB_NAME
    if not path.exists():
        print(f"no published file at {path}: run `nhs-readiness run` first", file=sys.stderr)
        return 2
    try:
        result = run_query(path, args.sql, allow_local_files=args.allow_local_files)
    except QueryRefused as error:
        print(f"nhs-readiness query: refused: {error}", file=sys.stderr)
        return 2
    except QueryFailed as error:
        print(f"nhs-readiness query: failed: {error}", file=sys.stderr)
        return 1
    if result.frame is None:
        print("done (the statement returns no rows)")
        return 0
    frame = result.frame
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


def main(argv: list[str] | None = None, *, own_process: bool = False) -> int:
    """Run a command; `own_process` when the process ends with it (the console script), which lets a build freeze
    its long-lived objects out of the cyclic collector's reach."""
    args = build_parser().parse_args(argv)
    args.own_process = own_process
    handlers = {"run": command_run, "ui": command_ui, "query": command_query, "spc": command_spc}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print(
            f"nhs-readiness {args.command}: stopped; the last good published file was left as it was", file=sys.stderr
        )
        return 130


def program() -> NoReturn:
    """The `nhs-readiness` command: `main` in a process of its own, which ends when it returns."""
    code = main(own_process=True)
    # everything the command built is freed with the process; frozen, it is not walked again by the cyclic
    # collector's passes at interpreter shutdown, which took about 1 s after a build (docs/performance.md)
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    program()
