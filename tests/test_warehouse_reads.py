"""Parameterised warehouse reads go through `execute` (docs/decisions.md 40): DuckDB runs `sql(..., params=...)`
at once and converts its materialised result row by row, many times slower for a large table."""

import ast

from pipeline.settings import PROJECT_ROOT


def test_no_parameterised_sql_relation_in_the_pipeline() -> None:
    found = []
    for folder in ("assets", "pipeline"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "sql"
                    and any(keyword.arg == "params" for keyword in node.keywords)
                ):
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not found, f"use con.execute(query, params) instead of con.sql(query, params=...) at {found}"
