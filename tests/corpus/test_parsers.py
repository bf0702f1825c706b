"""Every case of the bad-input corpus against its parser: a correct parse of the real values, or a clear error."""

from pathlib import Path

import pytest

from pipeline.settings import PROJECT_ROOT
from tests.corpus.cases import CASES, Case, markdown_table

DATASETS = {c.dataset for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, tmp_path: Path) -> None:
    case.check(case.make(tmp_path))


def test_the_corpus_covers_every_dataset_and_kind_of_breakage() -> None:
    assert len(CASES) >= 25 and len({c.id for c in CASES}) == len(CASES)
    assert len(DATASETS) == 7
    ids = " ".join(c.id for c in CASES)
    for kind in (
        "truncated",
        "zero-byte",
        "html-as",
        "bom",
        "renamed-column",
        "missing-column",
        "duplicated-column",
        "new-column",
        "sheet-renamed",
        "percent-fractions",
        "suppressed-new-spellings",
        "thousands-separators",
        "not-in-ods",
        "after-merger",
        "duplicated-row",
        "wrong-month",
        "path-traversal",
        "zip-bomb",
    ):
        assert kind in ids, kind


def test_the_reliability_doc_lists_every_case() -> None:
    """docs/reliability.md's table is generated from the corpus (`uv run python -m tests.corpus.cases`)."""
    assert markdown_table() in (PROJECT_ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
