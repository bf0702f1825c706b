"""Compare published files by content: every table's rows, ignoring when the file was built."""

import hashlib
from pathlib import Path

import duckdb

from pipeline import dictionary

VARIES_PER_BUILD = {"build_info": ["built_at"]}


def content_digest(path: Path) -> dict[str, str]:
    """SHA-256 of each published table's rows in primary-key order (build timestamps excluded)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        digests = {}
        for doc in dictionary.published_tables():
            excluded = VARIES_PER_BUILD.get(doc.name, [])
            columns = ", ".join(f'"{c}"' for c in doc.columns if c not in excluded)
            rows = con.sql(f'SELECT {columns} FROM "{doc.name}" ORDER BY ALL').fetchall()
            digests[doc.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests
    finally:
        con.close()
