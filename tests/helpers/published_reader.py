"""A researcher's process for the concurrent-publication test: loop read-only queries against the published
DuckDB file and its Parquet copies until told to stop, and report every error and inconsistency as JSON.

Usage: python -m tests.helpers.published_reader PUBLISHED_FILE STOP_FILE RESULT_FILE
"""

import json
import os
import sys
import time
from pathlib import Path

import duckdb

MAX_SECONDS = 300
# a short pause between rounds leaves the second core to the rebuild; rounds still land every few hundredths of a second
PAUSE_SECONDS = 0.02


def read_once(published: Path, filled: set[str]) -> tuple[int, list[str]]:
    """One round of queries; the problems found (empty when every table is whole). `filled` holds the tables that
    had rows in an earlier round: a table of the build may be empty (the small build's one survey year has no
    year-on-year change), but one that had rows must not be read empty."""
    inode = os.stat(published).st_ino
    problems = []
    con = duckdb.connect(str(published), read_only=True)
    try:
        recorded = dict(con.sql("SELECT table_name, row_count FROM data_tables").fetchall())
        for table, expected in recorded.items():
            found = con.sql(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
            if found != expected or (table in filled and not found):
                problems.append(f"{table}: {found} rows, data_tables says {expected}")
            if found:
                filled.add(table)
        # the real ODS etr 2026 export has 274 trusts (tests/test_end_to_end.py)
        trusts = con.sql("SELECT count(DISTINCT org_code) FROM ods_trusts").fetchall()[0][0]
        parquet = published.parent / "parquet" / "ods_trusts.parquet"
        in_parquet = con.sql(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchall()[0][0]
        if (trusts, in_parquet) != (274, 274):
            problems.append(f"ods_trusts: {trusts} trusts in the file, {in_parquet} rows in Parquet")
    finally:
        con.close()
    return inode, problems


def main(published: Path, stop_file: Path, result_file: Path) -> None:
    iterations, errors, inodes, filled = 0, [], set(), set()
    started = time.monotonic()
    while time.monotonic() - started < MAX_SECONDS:
        stopping = stop_file.exists()  # checked before the round, so the last round starts after the rebuild ended
        try:
            inode, problems = read_once(published, filled)
            inodes.add(inode)
            errors.extend(problems)
        except Exception as error:  # every failure is the finding, whatever its type
            errors.append(f"{type(error).__name__}: {error}")
        iterations += 1
        if iterations == 1:
            result_file.with_suffix(".ready").touch()
        if stopping:
            break
        time.sleep(PAUSE_SECONDS)
    result_file.write_text(json.dumps({"iterations": iterations, "errors": errors, "inodes": sorted(inodes)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
