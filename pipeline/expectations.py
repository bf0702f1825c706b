"""Great Expectations suites generated from the data dictionary into expectations/<table>.json.

The JSON files are committed so a reviewer sees exactly what each check validates, but nobody writes them:
`uv run python -m pipeline.expectations` regenerates them, and a test fails when one differs from what the
dictionary (and the reference CSVs its accepted values name) would give.
"""

import csv
import json
import sys
from pathlib import Path
from typing import Any

from pipeline import dictionary
from pipeline.dictionary import DictionaryError, TableDoc
from pipeline.settings import DICTIONARY_DIR, EXPECTATIONS_DIR, REFERENCE_DIR


def reference_values(reference: str, column: str, directory: Path = REFERENCE_DIR) -> list[str]:
    """Distinct non-empty values of a reference CSV column, in file order."""
    path = directory / reference
    if not path.exists():
        raise DictionaryError(f"accepted values name data/reference/{reference}, which does not exist")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows and column not in rows[0]:
        raise DictionaryError(f"accepted values name column {column!r} of data/reference/{reference}; it has none")
    return list(dict.fromkeys(r[column] for r in rows if r[column]))


def _accepted(doc: TableDoc, column: str, spec: dict[str, Any], reference_dir: Path) -> dict[str, Any]:
    extra = {k: v for k, v in spec.items() if k not in ("values", "reference", "column")}
    if "reference" in spec:
        values: list[Any] = reference_values(spec["reference"], spec.get("column", column), reference_dir)
    elif "values" in spec:
        values = list(spec["values"])
    else:
        raise DictionaryError(f"{doc.path}: column '{column}': accepted_values needs `values:` or `reference:`")
    return {"column": column, "value_set": values, **extra}


def expectations_for(doc: TableDoc, reference_dir: Path = REFERENCE_DIR) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(kind: str, **kwargs: Any) -> None:
        out.append({"type": f"expect_{kind}", "kwargs": kwargs})

    if len(doc.primary_key) == 1:
        add("column_values_to_be_unique", column=doc.primary_key[0])
    elif doc.primary_key:
        add("compound_columns_to_be_unique", column_list=list(doc.primary_key))
    for column in doc.columns:
        tests = doc.column_tests.get(column, {})
        if tests.get("not_null"):
            add("column_values_to_not_be_null", column=column)
        if tests.get("unique"):
            add("column_values_to_be_unique", column=column)
        if "regex" in tests:
            add("column_values_to_match_regex", column=column, regex=tests["regex"])
        if "range" in tests:
            bounds = dict(tests["range"])
            renamed = {"min": "min_value", "max": "max_value"}
            add("column_values_to_be_between", column=column, **{renamed.get(k, k): v for k, v in bounds.items()})
        if "accepted_values" in tests:
            add("column_values_to_be_in_set", **_accepted(doc, column, tests["accepted_values"], reference_dir))
    for test in doc.row_tests:
        ((kind, spec),) = test.items()
        if kind == "unique_together":
            add("compound_columns_to_be_unique", column_list=list(spec))
        else:
            add("column_pair_values_a_to_be_greater_than_b", **spec)
    return out


def has_tests(doc: TableDoc) -> bool:
    return bool(doc.column_tests or doc.row_tests)


def suite_for(doc: TableDoc, reference_dir: Path = REFERENCE_DIR) -> dict[str, Any]:
    return {
        "name": doc.name,
        "meta": {
            "table": doc.name,
            "generated_from": f"{doc.path} by `uv run python -m pipeline.expectations`; do not edit",
            "notes": doc.suite_notes,
        },
        "expectations": expectations_for(doc, reference_dir),
    }


def render(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, ensure_ascii=False) + "\n"


def generated_suites(dictionary_dir: Path = DICTIONARY_DIR, reference_dir: Path = REFERENCE_DIR) -> dict[str, str]:
    """File name → text of every suite the dictionary defines (a table with column or row tests has one)."""
    docs = dictionary.load_directory(dictionary_dir)
    return {f"{d.name}.json": render(suite_for(d, reference_dir)) for d in docs.values() if has_tests(d)}


def stale_suites(
    dictionary_dir: Path = DICTIONARY_DIR,
    reference_dir: Path = REFERENCE_DIR,
    expectations_dir: Path = EXPECTATIONS_DIR,
) -> list[str]:
    """Suite files that differ from, lack, or are not backed by the dictionary."""
    wanted = generated_suites(dictionary_dir, reference_dir)
    present = {p.name: p.read_text(encoding="utf-8") for p in expectations_dir.glob("*.json")}
    return sorted(name for name in wanted.keys() | present.keys() if wanted.get(name) != present.get(name))


def write_suites(expectations_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    wanted = generated_suites()
    for stale in set(p.name for p in expectations_dir.glob("*.json")) - wanted.keys():
        (expectations_dir / stale).unlink()
    changed = [n for n, text in wanted.items() if _read(expectations_dir / n) != text]
    for name in changed:
        (expectations_dir / name).write_text(wanted[name], encoding="utf-8")
    return changed


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def main() -> int:
    try:
        changed = write_suites()
    except DictionaryError as error:
        print(f"expectations not generated: {error}", file=sys.stderr)
        return 2
    print(f"expectations/: {len(changed)} suite(s) rewritten" + (f" ({', '.join(changed)})" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
