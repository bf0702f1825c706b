"""Where things live. Every storage location can be moved by an environment variable or by resource config."""

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"
SNAPSHOT_DIR = DATA_DIR / "snapshot"
REFERENCE_DIR = DATA_DIR / "reference"
FRAMEWORK_DIR = DATA_DIR / "framework"
DICTIONARY_DIR = DATA_DIR / "dictionary"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

PUBLISHED_DB_NAME = "nhs_change_readiness.duckdb"


def local_path(location: str | Path) -> Path:
    """A storage location given as a path or a `file://` URI, as a local path.

    Other URI schemes (s3://, gs://, https://) are refused by name: the pipeline's writers need a local filesystem
    today (docs/scaling.md says what moving to object storage involves)."""
    text = str(location)
    parsed = urlparse(text)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise ValueError(f"{text!r}: a file:// URI names a local path (file:///path), not host {parsed.netloc!r}")
        return Path(url2pathname(unquote(parsed.path)))
    if len(parsed.scheme) > 1 and "://" in text:
        raise ValueError(
            f"{text!r}: storage locations must be local paths or file:// URIs; {parsed.scheme}:// is not supported "
            "(see docs/scaling.md)"
        )
    return Path(text)


def _env_path(name: str, default: Path) -> str:
    return str(local_path(os.environ.get(name) or default).expanduser().resolve())


def default_snapshot_dir() -> str:
    return _env_path("NHS_READINESS_SNAPSHOT_DIR", SNAPSHOT_DIR)


def default_raw_dir() -> str:
    return _env_path("NHS_READINESS_RAW_DIR", DATA_DIR / "raw")


def default_warehouse_path() -> str:
    return _env_path("NHS_READINESS_WAREHOUSE", DATA_DIR / "work" / "warehouse.duckdb")


def default_published_dir() -> str:
    return _env_path("NHS_READINESS_PUBLISHED_DIR", DATA_DIR / "published")


def default_source_mode() -> str:
    return os.environ.get("NHS_READINESS_SOURCE", "snapshot")


def default_source_options() -> dict[str, Any]:
    """Extra SourceResource settings as JSON, e.g. '{"timeout_seconds": 30, "retries": 2}'.

    Tests use it to point `nhs-readiness run --source web` at a loopback server through `url_rewrites`.
    """
    text = os.environ.get("NHS_READINESS_SOURCE_OPTIONS", "").strip()
    options = json.loads(text) if text else {}
    if not isinstance(options, dict):
        raise ValueError("NHS_READINESS_SOURCE_OPTIONS must be a JSON object of SourceResource settings")
    return options
