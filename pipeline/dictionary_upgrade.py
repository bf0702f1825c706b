"""Upgrade old-style dictionary entries (`column: description`) to typed ones, for merging branches that added them.

    uv run python -m pipeline.dictionary_upgrade DATABASE [DATABASE ...]

Every column written the old way gets the type its table has in the first given DuckDB file that holds the table (a
warehouse or published file built on the branch that added the column). When the table's expectations/<table>.json
was written by hand (not generated), its expectations become the column and row tests, with value sets that equal a
reference CSV column written as that reference. Rewrite the suites afterwards with `uv run python -m
pipeline.expectations`, and review the diff.
"""

import csv
import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline.settings import DICTIONARY_DIR, EXPECTATIONS_DIR, REFERENCE_DIR


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False).strip()


def built_types(databases: list[Path], table: str) -> dict[str, str]:
    """Each column's type from the first database whose table has that column (branches add different columns)."""
    types: dict[str, str] = {}
    for database in databases:
        con = duckdb.connect(str(database), read_only=True)
        try:
            found = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table if table != "raw_files" else "raw_ods"],
            ).fetchall()
        finally:
            con.close()
        for column, data_type in found:
            types.setdefault(column, data_type)
    return types


def _reference_columns(reference_dir: Path) -> dict[tuple[str, str], list[str]]:
    columns: dict[tuple[str, str], list[str]] = {}
    for path in sorted(reference_dir.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for column in rows[0].keys() if rows else []:
            columns[(path.name, column)] = list(dict.fromkeys(r[column] for r in rows if r[column]))
    return columns


def tests_from_suite(
    suite: dict[str, Any], primary_key: list[str], reference_dir: Path
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    references = _reference_columns(reference_dir)
    tests: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for expectation in suite["expectations"]:
        kind, kwargs = expectation["type"].removeprefix("expect_"), dict(expectation["kwargs"])
        column = kwargs.pop("column", None)
        if kind == "column_values_to_not_be_null":
            tests.setdefault(column, {})["not_null"] = True
        elif kind == "column_values_to_be_unique" and primary_key != [column]:
            tests.setdefault(column, {})["unique"] = True
        elif kind == "column_values_to_match_regex":
            tests.setdefault(column, {})["regex"] = kwargs["regex"]
        elif kind == "column_values_to_be_between":
            renamed = {"min_value": "min", "max_value": "max"}
            tests.setdefault(column, {})["range"] = {renamed.get(k, k): v for k, v in kwargs.items()}
        elif kind == "column_values_to_be_in_set":
            values = kwargs.pop("value_set")
            same = [k for k, v in references.items() if sorted(map(str, values)) == sorted(v)]
            if same and all(isinstance(v, str) for v in values):
                accepted: dict[str, Any] = {"reference": same[0][0], "column": same[0][1]}
            else:
                accepted = {"values": values}
            tests.setdefault(column, {})["accepted_values"] = {**accepted, **kwargs}
        elif kind == "compound_columns_to_be_unique" and kwargs["column_list"] != primary_key:
            rows.append({"unique_together": kwargs["column_list"]})
        elif kind == "column_pair_values_a_to_be_greater_than_b":
            rows.append({"a_at_least_b": kwargs})
        elif kind not in ("column_values_to_be_unique", "compound_columns_to_be_unique"):
            raise ValueError(f"{suite['name']}: no dictionary test for expectation {expectation['type']}")
    return tests, rows


def upgrade_file(
    path: Path, databases: list[Path], expectations_dir: Path = EXPECTATIONS_DIR, reference_dir: Path = REFERENCE_DIR
) -> bool:
    """Rewrite one dictionary file when it has old-style columns; True when it was rewritten."""
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    columns: dict[str, Any] = raw["columns"]
    if all(isinstance(c, dict) for c in columns.values()):
        return False
    types = built_types(databases, raw["table"])
    untyped = [c for c, v in columns.items() if not isinstance(v, dict) and c not in types]
    if untyped:
        raise ValueError(f"{path.name}: no built table gives the type of column(s) {untyped}")
    suite_path = expectations_dir / f"{raw['table']}.json"
    tests: dict[str, dict[str, Any]] = {}
    row_tests = list(raw.get("row_tests") or [])
    notes = raw.get("suite_notes", "")
    if suite_path.exists():
        suite = json.loads(suite_path.read_text(encoding="utf-8"))
        if "generated_from" not in suite.get("meta", {}):
            tests, row_tests = tests_from_suite(suite, list(raw.get("primary_key") or []), reference_dir)
            notes = suite.get("meta", {}).get("notes", notes)
    lines = [text[: text.index("\ncolumns:")], "columns:"]
    for name, value in columns.items():
        entry = value if isinstance(value, dict) else {"type": types[name], "description": " ".join(value.split())}
        lines.append(f"  {name}:")
        lines.append(f"    type: {entry['type']}")
        described = yaml.safe_dump({"description": entry["description"]}, width=112, allow_unicode=True)
        lines += ["    " + line for line in described.rstrip("\n").splitlines()]
        merged = {**(entry.get("tests") or {}), **tests.get(name, {})}
        if merged:
            lines.append(f"    tests: {_flow(merged)}")
    if row_tests:
        lines += ["row_tests:", *(f"  - {_flow(test)}" for test in row_tests)]
    if notes:
        lines.append(yaml.safe_dump({"suite_notes": notes}, width=112, allow_unicode=True).rstrip("\n"))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return True


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    databases = [Path(a) for a in argv]
    rewritten = [p.name for p in sorted(DICTIONARY_DIR.glob("*.yaml")) if upgrade_file(p, databases)]
    print(f"data/dictionary/: {len(rewritten)} file(s) upgraded" + (f" ({', '.join(rewritten)})" if rewritten else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
