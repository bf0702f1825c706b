"""The data dictionary: one YAML file per table under data/dictionary/.

It is the single source for the published `data_dictionary` table, `COMMENT ON` statements,
and the column schemas and descriptions that the Dagster UI shows for each asset.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dagster as dg
import yaml

from pipeline.settings import DICTIONARY_DIR


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    grain: str
    primary_key: tuple[str, ...]
    published: bool
    columns: dict[str, str]

    def column_schema(self, types: dict[str, str] | None = None) -> dg.TableSchema:
        types = types or {}
        return dg.TableSchema(
            columns=[
                dg.TableColumn(name=name, type=types.get(name, "?"), description=text)
                for name, text in self.columns.items()
            ]
        )

    def dagster_metadata(self) -> dict[str, object]:
        return {
            "dagster/column_schema": self.column_schema(),
            "grain": self.grain,
            "primary_key": ", ".join(self.primary_key),
        }


def _load(path: Path) -> TableDoc:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = {"table", "description", "grain", "columns"} - raw.keys()
    if missing:
        raise ValueError(f"{path.name}: missing keys {sorted(missing)}")
    if raw["table"] != path.stem:
        raise ValueError(f"{path.name}: 'table' is {raw['table']!r}; the file must be named after its table")
    empty = [c for c, text in raw["columns"].items() if not (text or "").strip()]
    if empty:
        raise ValueError(f"{path.name}: columns without a description: {empty}")
    return TableDoc(
        name=raw["table"],
        description=" ".join(raw["description"].split()),
        grain=raw["grain"],
        primary_key=tuple(raw.get("primary_key") or ()),
        published=bool(raw.get("published", True)),
        columns={c: " ".join(str(t).split()) for c, t in raw["columns"].items()},
    )


@cache
def all_tables() -> dict[str, TableDoc]:
    return {doc.name: doc for doc in map(_load, sorted(DICTIONARY_DIR.glob("*.yaml")))}


def table(name: str) -> TableDoc:
    try:
        return all_tables()[name]
    except KeyError:
        raise KeyError(f"no data dictionary entry data/dictionary/{name}.yaml") from None


def published_tables() -> list[TableDoc]:
    return [doc for doc in all_tables().values() if doc.published]
