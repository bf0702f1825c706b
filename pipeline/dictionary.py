"""The data dictionary: one YAML file per table under data/dictionary/, the single schema of every table.

Each column has a DuckDB type, a description and optional tests; the table has its grain, primary key and
row tests. From it come the DDL (`TableDoc.ddl`), the Polars schema (`TableDoc.polars_schema`), the Great
Expectations suites in expectations/ (`pipeline.expectations`), `COMMENT ON` statements, the published
`data_dictionary` and `data_tables`, the column schema the Dagster UI shows, and the types the publication gate
checks. See docs/schema.md for the format.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import yaml

from pipeline.settings import DICTIONARY_DIR

COLUMN_KEYS = {"type", "description", "tests"}
COLUMN_TESTS = {"not_null", "unique", "regex", "range", "accepted_values"}
ROW_TESTS = {"a_at_least_b", "unique_together"}
# libyaml's safe loader reads the same documents about ten times faster than PyYAML's own (0.01 s against 0.12 s for
# the whole dictionary, at every start of the pipeline); PyYAML's where a build of it lacks libyaml
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# DuckDB type → Polars dtype; a type outside this list must be added here (the loader names the column)
POLARS_TYPES: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "BOOLEAN": pl.Boolean(),
    "TINYINT": pl.Int8(),
    "SMALLINT": pl.Int16(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "HUGEINT": pl.Int128(),
    "UTINYINT": pl.UInt8(),
    "USMALLINT": pl.UInt16(),
    "UINTEGER": pl.UInt32(),
    "UBIGINT": pl.UInt64(),
    "FLOAT": pl.Float32(),
    "DOUBLE": pl.Float64(),
    "DATE": pl.Date(),
    "TIMESTAMP": pl.Datetime("us"),
    "VARCHAR[]": pl.List(pl.String()),
    "BIGINT[]": pl.List(pl.Int64()),
    "DOUBLE[]": pl.List(pl.Float64()),
}


class DictionaryError(ValueError):
    """A dictionary file that cannot define its table (names the file and, where it can, the column)."""


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    grain: str
    primary_key: tuple[str, ...]
    published: bool
    columns: dict[str, str]  # column → description, in table order
    types: dict[str, str] = field(default_factory=dict)  # column → DuckDB type
    column_tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    row_tests: tuple[dict[str, Any], ...] = ()
    suite_notes: str = ""

    @property
    def path(self) -> str:
        return f"data/dictionary/{self.name}.yaml"

    def ddl(self, table: str | None = None, *, if_not_exists: bool = True) -> str:
        """CREATE TABLE for this table (or for `table`, e.g. a schema-qualified name or a `raw_<dataset>`)."""
        name = table or f'"{self.name}"'
        columns = ", ".join(f'"{c}" {t}' for c, t in self.types.items())
        return f"CREATE TABLE {'IF NOT EXISTS ' if if_not_exists else ''}{name}({columns})"

    def polars_schema(self) -> pl.Schema:
        return pl.Schema({c: POLARS_TYPES[t] for c, t in self.types.items()})

    def empty_frame(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.polars_schema())

    def comment_statements(self, table: str | None = None) -> list[str]:
        name = table or f'"{self.name}"'
        return [f"COMMENT ON TABLE {name} IS {sql_literal(self.description)}"] + [
            f'COMMENT ON COLUMN {name}."{c}" IS {sql_literal(text)}' for c, text in self.columns.items()
        ]

    def column_schema(self, observed_types: dict[str, str] | None = None) -> dg.TableSchema:
        """The documented schema; `observed_types` (what the warehouse holds) is accepted for old callers and
        ignored, since the declared types are checked against the built tables by the publication gate."""
        return dg.TableSchema(
            columns=[
                dg.TableColumn(
                    name=name,
                    type=self.types[name],
                    description=text,
                    constraints=dg.TableColumnConstraints(
                        nullable=not (self.column_tests.get(name, {}).get("not_null") or name in self.primary_key),
                        unique=bool(self.column_tests.get(name, {}).get("unique")),
                    ),
                )
                for name, text in self.columns.items()
            ],
            constraints=dg.TableConstraints(
                other=[f"primary key ({', '.join(self.primary_key)})"] if self.primary_key else []
            ),
        )

    def dagster_metadata(self) -> dict[str, object]:
        return {
            "dagster/column_schema": self.column_schema(),
            "grain": self.grain,
            "primary_key": ", ".join(self.primary_key),
        }


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalise_type(text: str) -> str:
    """DuckDB's spelling of a type as information_schema reports it (e.g. `int` → INTEGER, `text` → VARCHAR)."""
    aliases = {
        "INT": "INTEGER",
        "INT4": "INTEGER",
        "INT8": "BIGINT",
        "LONG": "BIGINT",
        "TEXT": "VARCHAR",
        "STRING": "VARCHAR",
        "BOOL": "BOOLEAN",
        "FLOAT8": "DOUBLE",
        "REAL": "FLOAT",
        "DATETIME": "TIMESTAMP",
    }
    upper = " ".join(str(text).upper().split())
    return aliases.get(upper, upper)


def _column(path: Path, name: str, raw: object) -> tuple[str, str, dict[str, Any]]:
    where = f"data/dictionary/{path.name}: column '{name}'"
    if not isinstance(raw, dict):
        raise DictionaryError(
            f"{where} has no type: write it as a mapping with `type:` (a DuckDB type) and `description:` "
            "(see docs/schema.md)"
        )
    unknown = raw.keys() - COLUMN_KEYS
    if unknown:
        raise DictionaryError(f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(COLUMN_KEYS)}")
    if not raw.get("type"):
        raise DictionaryError(f"{where} has no type (a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DATE)")
    kind = normalise_type(raw["type"])
    if kind not in POLARS_TYPES:
        raise DictionaryError(f"{where}: type {raw['type']!r} is not one of {sorted(POLARS_TYPES)}")
    text = " ".join(str(raw.get("description") or "").split())
    if not text:
        raise DictionaryError(f"{where} has no description")
    tests = dict(raw.get("tests") or {})
    unknown = tests.keys() - COLUMN_TESTS
    if unknown:
        raise DictionaryError(f"{where}: unknown test(s) {sorted(unknown)}; allowed {sorted(COLUMN_TESTS)}")
    return kind, text, tests


def _load(path: Path) -> TableDoc:
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    where = f"data/dictionary/{path.name}"
    missing = {"table", "description", "grain", "columns"} - raw.keys()
    if missing:
        raise DictionaryError(f"{where}: missing keys {sorted(missing)}")
    if raw["table"] != path.stem:
        raise DictionaryError(f"{where}: 'table' is {raw['table']!r}; the file must be named after its table")
    types: dict[str, str] = {}
    texts: dict[str, str] = {}
    tests: dict[str, dict[str, Any]] = {}
    for name, column in raw["columns"].items():
        types[name], texts[name], column_tests = _column(path, name, column)
        if column_tests:
            tests[name] = column_tests
    primary_key = tuple(raw.get("primary_key") or ())
    unknown_keys = [k for k in primary_key if k not in types]
    if unknown_keys:
        raise DictionaryError(f"{where}: primary key column(s) {unknown_keys} are not columns of the table")
    row_tests = tuple(raw.get("row_tests") or ())
    for test in row_tests:
        if not (isinstance(test, dict) and len(test) == 1 and next(iter(test)) in ROW_TESTS):
            raise DictionaryError(f"{where}: row test {test!r} must be one of {sorted(ROW_TESTS)}")
    return TableDoc(
        name=raw["table"],
        description=" ".join(raw["description"].split()),
        grain=raw["grain"],
        primary_key=primary_key,
        published=bool(raw.get("published", True)),
        columns=texts,
        types=types,
        column_tests=tests,
        row_tests=row_tests,
        suite_notes=" ".join(str(raw.get("suite_notes") or "").split()),
    )


def load_directory(directory: Path) -> dict[str, TableDoc]:
    return {doc.name: doc for doc in map(_load, sorted(directory.glob("*.yaml")))}


@cache
def all_tables() -> dict[str, TableDoc]:
    return load_directory(DICTIONARY_DIR)


def table(name: str) -> TableDoc:
    try:
        return all_tables()[name]
    except KeyError:
        raise KeyError(f"no data dictionary entry data/dictionary/{name}.yaml") from None


def published_tables() -> list[TableDoc]:
    return [doc for doc in all_tables().values() if doc.published]
