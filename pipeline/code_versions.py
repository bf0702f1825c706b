"""Each asset's Dagster code version, derived from exactly what it reads.

An asset reads the project modules it imports (followed transitively, lazy imports included), the files that sit
beside those modules (SQL, report templates and static files), the reference, framework, dictionary and
expectation files those modules name, and the third-party libraries they import (at their installed, i.e. locked,
versions). The code version is a hash over all of that, so editing a report template changes `published_report`'s
code version and nothing else's, and Dagster's staleness follows from there (docs/dagster.md).
"""

import ast
import hashlib
import importlib.metadata
import inspect
import pkgutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import dagster as dg

from pipeline.settings import DICTIONARY_DIR, EXPECTATIONS_DIR, FRAMEWORK_DIR, PROJECT_ROOT, REFERENCE_DIR

PROJECT_PACKAGES = ("assets", "pipeline")
# orchestration and test libraries never change a published number; hashing them would rebuild everything on an
# upgrade of the scheduler
ORCHESTRATION = frozenset({"dagster", "dagster_duckdb", "dagster_webserver", "dagster_graphql", "pydantic"})
# modules that decide when assets run, not what they hold; and the downloader, whose output is judged by the bytes
# it fetches (each source file's SHA-256 is its observable source asset's data version), not by its code
NOT_AN_INPUT_PREFIXES = (
    "pipeline.code_versions",
    "pipeline.staleness",
    "pipeline.runner",
    "pipeline.planning",
    "pipeline.partition_events",
    "pipeline.cli",
    "pipeline.definitions",
    "pipeline.jobs",
    "pipeline.schedules",
    "pipeline.sensors",
    "pipeline.progress",
    "pipeline.instance",
    "pipeline.incremental",
    "pipeline.fetch",
)
# settings names every data folder; what a module reads is named in the module itself
NO_LITERALS = frozenset({"pipeline.settings"})
DATA_DIRS = (REFERENCE_DIR, FRAMEWORK_DIR, DICTIONARY_DIR, EXPECTATIONS_DIR)


@dataclass(frozen=True)
class AssetInputs:
    modules: tuple[str, ...]
    files: tuple[Path, ...]
    libraries: tuple[str, ...]  # "name==version"

    def code_version(self) -> str:
        digest = hashlib.sha256()
        for path in self.files:
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
            digest.update(_file_digest(path).encode())
        for library in self.libraries:
            digest.update(library.encode() + b"\0")
        return digest.hexdigest()[:16]


@cache
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PROJECT_PACKAGES


@cache
def _module_file(name: str) -> Path | None:
    module = sys.modules.get(name)
    spec_file = getattr(module, "__file__", None)
    return Path(spec_file) if spec_file else None


@cache
def _parsed(name: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(project modules imported, third-party top-level packages imported, string literals) of one module."""
    path = _module_file(name)
    if path is None or path.suffix != ".py":
        return frozenset(), frozenset(), frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    project: set[str] = set()
    external: set[str] = set()
    literals: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            # `from assets.x import y` may import the submodule assets.x.y
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200:
            literals.add(node.value)
        elif isinstance(node, ast.Name):
            literals.add(node.id)  # FRAMEWORK_DIR and friends name whole folders
        for target in targets:
            if _is_project(target):
                if target in sys.modules:
                    project.add(target)
            elif target:
                external.add(target.split(".")[0])
    return frozenset(project), frozenset(external), frozenset(literals)


def module_closure(roots: Iterable[str]) -> set[str]:
    """The project modules `roots` import, transitively (package __init__ modules included)."""
    seen: set[str] = set()
    todo = [r for r in roots if _is_project(r)]
    while todo:
        name = todo.pop()
        if name in seen or name.startswith(NOT_AN_INPUT_PREFIXES):
            continue
        seen.add(name)
        todo.extend(_parsed(name)[0])
    return seen


@cache
def _data_files() -> dict[str, list[Path]]:
    """Every data file, by each name a module may use for it: file name and stem."""
    by_name: dict[str, list[Path]] = {}
    for folder in DATA_DIRS:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            for name in {path.name, path.stem}:
                by_name.setdefault(name, []).append(path)
    return by_name


def _files_beside(path: Path) -> list[Path]:
    """Non-Python files in a module's folder and its non-package subfolders (SQL, templates, static files)."""
    found = [p for p in path.parent.iterdir() if p.is_file() and p.suffix not in {".py", ".pyc"}]
    for sub in path.parent.iterdir():
        if sub.is_dir() and not (sub / "__init__.py").exists() and sub.name != "__pycache__":
            found += [p for p in sub.rglob("*") if p.is_file()]
    return found


@cache
def _distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


@cache
def _library(name: str) -> str | None:
    if name in ORCHESTRATION or name in sys.stdlib_module_names:
        return None
    distributions = _distributions().get(name)
    if not distributions:
        return None
    dist = distributions[0]
    return f"{dist}=={importlib.metadata.version(dist)}"


def inputs_of(modules: Iterable[str], table_names: Iterable[str]) -> AssetInputs:
    """What an asset defined (or computed) in `modules` reads. A module's SQL files count for every asset that
    imports the module; its other files (report templates, static files) only for assets of its own package, since
    another package importing a constant from it (as spc_monthly does from the report builder) does not render
    its templates (docs/decisions.md)."""
    modules = set(modules)
    home_dirs = {path.parent for path in map(_module_file, modules) if path is not None}
    closure = module_closure(modules)
    files: set[Path] = set()
    literals: set[str] = set(table_names)
    external: set[str] = set()
    for name in closure:
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        if name.startswith("assets."):  # pipeline/ holds instance settings beside its modules, not asset inputs
            beside = _files_beside(path)
            files.update(p for p in beside if p.suffix == ".sql" or path.parent in home_dirs)
        _, imported, names = _parsed(name)
        external |= imported
        if name not in NO_LITERALS:
            literals |= names
    data = _data_files()
    for literal in literals:
        files.update(data.get(literal, []))
    if "FRAMEWORK_DIR" in literals:
        files.update(p for p in FRAMEWORK_DIR.rglob("*") if p.is_file())
    libraries = sorted(filter(None, map(_library, external)))
    return AssetInputs(tuple(sorted(closure)), tuple(sorted(files)), tuple(libraries))


def _defining_modules() -> dict[int, set[str]]:
    """Which modules of the `assets` package bind each assets definition (by object id)."""
    import assets

    found: dict[int, set[str]] = {}
    for info in pkgutil.walk_packages(assets.__path__, "assets."):
        module = sys.modules.get(info.name)
        if module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, dg.AssetsDefinition):
                found.setdefault(id(value), set()).add(info.name)
    return found


def _function_modules(assets_def: dg.AssetsDefinition) -> set[str]:
    """The module of the compute function, and of any function a factory closed over (a resolver, a parser)."""
    names: set[str] = set()
    compute = getattr(assets_def.op.compute_fn, "decorated_fn", None)
    if compute is None:
        return names
    names.add(compute.__module__)
    for cell in compute.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            names.add(value.__module__)
            for inner in getattr(value, "__closure__", None) or ():
                try:
                    if inspect.isfunction(inner.cell_contents):
                        names.add(inner.cell_contents.__module__)
                except ValueError:
                    continue
        elif isinstance(value, ModuleType):
            names.add(value.__name__)
    return names


def with_code_versions(assets_defs: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The assets with each one's derived code version, and the files it covers in its metadata."""
    defining = _defining_modules()
    versioned = []
    for assets_def in assets_defs:
        if not assets_def.is_executable or assets_def.is_observable:
            versioned.append(assets_def)
            continue
        modules = defining.get(id(assets_def), set()) | _function_modules(assets_def)
        inputs = inputs_of(modules, [key.path[-1] for key in assets_def.keys])
        version = inputs.code_version()
        covered = [str(p.relative_to(PROJECT_ROOT)) for p in inputs.files] + list(inputs.libraries)
        versioned.append(
            assets_def.map_asset_specs(
                lambda spec, v=version, c=covered: spec.replace_attributes(
                    code_version=v, metadata={**spec.metadata, "code_version_covers": dg.MetadataValue.json(c)}
                )
            )
        )
    return versioned
