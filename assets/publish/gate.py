"""The publication gate: a built file must match the documented contract before it replaces the last good one."""

from pathlib import Path

import duckdb

from pipeline import dictionary


def contract_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems that make a built database unfit to publish; empty when it is fit.

    An empty table is allowed: a build of only some survey years (e.g. `--years 2021-2023`, which have no
    option breakdowns) legitimately has no rows in some tables."""
    problems: list[str] = []
    present = {
        name: {
            c
            for (c,) in con.sql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?", params=[name]
            ).fetchall()
        }
        for (name,) in con.sql("SELECT table_name FROM information_schema.tables").fetchall()
    }
    for doc in dictionary.published_tables():
        if doc.name not in present:
            problems.append(f"table {doc.name} is missing")
            continue
        undocumented = present[doc.name] - doc.columns.keys()
        missing = doc.columns.keys() - present[doc.name]
        if missing:
            problems.append(f"table {doc.name} lacks documented column(s) {sorted(missing)}")
        if undocumented:
            problems.append(f"table {doc.name} has undocumented column(s) {sorted(undocumented)}")
        if doc.primary_key and not missing:
            keys = ", ".join(f'"{k}"' for k in doc.primary_key)
            dupes = con.sql(
                f'SELECT count(*) FROM (SELECT {keys} FROM "{doc.name}" GROUP BY ALL HAVING count(*) > 1)'
            ).fetchall()[0][0]
            if dupes:
                problems.append(f"table {doc.name} has {dupes} duplicated key(s) on ({', '.join(doc.primary_key)})")
    return problems


def verify_file(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return contract_problems(con)
    finally:
        con.close()
