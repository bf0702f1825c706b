"""The publication gate: a built file must match the documented contract before it replaces the last good one."""

from pathlib import Path

import duckdb

from pipeline import dictionary
from pipeline.dictionary import normalise_type


def contract_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Problems that make a built database unfit to publish (a missing table, a missing, undocumented or
    differently typed column, a duplicated primary key); empty when it is fit.

    An empty table is allowed: a build of only some survey years (e.g. `--years 2021-2023`, which have no
    option breakdowns) legitimately has no rows in some tables."""
    problems: list[str] = []
    present: dict[str, dict[str, str]] = {}
    for table, column, data_type in con.sql(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "ORDER BY table_name, ordinal_position"
    ).fetchall():
        present.setdefault(table, {})[column] = data_type
    for doc in dictionary.published_tables():
        if doc.name not in present:
            problems.append(f"table {doc.name} is missing")
            continue
        undocumented = present[doc.name].keys() - doc.columns.keys()
        missing = doc.columns.keys() - present[doc.name].keys()
        if missing:
            problems.append(f"table {doc.name} lacks documented column(s) {sorted(missing)}")
        if undocumented:
            problems.append(f"table {doc.name} has undocumented column(s) {sorted(undocumented)}")
        for column, declared in doc.types.items():
            built = present[doc.name].get(column)
            if built is not None and normalise_type(built) != normalise_type(declared):
                problems.append(f"table {doc.name} column {column} is {built}, but {doc.path} declares {declared}")
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
