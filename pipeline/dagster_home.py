"""One Dagster instance for the command line and the UI.

Unless DAGSTER_HOME is set, the instance lives beside the working warehouse (data/work/dagster_home by default),
because what it records (materializations, data versions) describes that warehouse: a build moved elsewhere with
NHS_READINESS_WAREHOUSE gets its own history. It is created on first use with the shipped settings
(pipeline/instance/dagster.yaml: telemetry and the sign-up pop-up off, one run at a time).
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.settings import PROJECT_ROOT, default_warehouse_path

if TYPE_CHECKING:
    from dagster import DagsterInstance

SHIPPED_SETTINGS = PROJECT_ROOT / "pipeline" / "instance" / "dagster.yaml"
HOME_NAME = "dagster_home"


def dagster_home_path() -> Path:
    """DAGSTER_HOME when set, else the folder beside the warehouse."""
    given = os.environ.get("DAGSTER_HOME")
    return Path(given).expanduser().resolve() if given else Path(default_warehouse_path()).parent / HOME_NAME


def dagster_home() -> Path:
    """The instance folder, created with the shipped settings if new."""
    home = dagster_home_path()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(SHIPPED_SETTINGS, settings)
    return home


def project_instance() -> "DagsterInstance":
    """The project's instance, opened from its folder (this process's environment is left as it is), with one
    SQLAlchemy engine per SQLite file (pipeline/sqlite_engines.py)."""
    from dagster import DagsterInstance

    from pipeline.sqlite_engines import share_sqlite_engines

    share_sqlite_engines()
    return DagsterInstance.from_config(str(dagster_home()))


@contextmanager
def opened_project_instance() -> Iterator["DagsterInstance"]:
    """`project_instance`, disposed on leaving, with the SQLite connections kept open for it closed."""
    from pipeline.sqlite_engines import release_engines

    instance = project_instance()
    try:
        yield instance
    finally:
        instance.dispose()
        release_engines()


def use_project_instance() -> Path:
    """Point this process and its children (`dagster dev`) at the project's instance."""
    home = dagster_home()
    os.environ["DAGSTER_HOME"] = str(home)
    return home
