"""The source catalogue: where each dataset product is published and how its file names give the period.

Two data files in data/reference/:
- `source_catalogue.csv`: per dataset/product the landing pages to discover links on (HTML pages or the
  staff survey catalogue JSON), which sub-pages to follow, a file-name regex whose named groups give the
  period, what marks a revised release, and (for zips) which member to return;
- `source_known_urls.csv`: every real file URL the project knows, with where it came from. They are the
  fallback when discovery finds nothing (publisher pages move, old links are dropped).
"""

import csv
import re
from dataclasses import dataclass
from functools import cache

from pipeline.fetch.urls import check_official, file_name
from pipeline.settings import REFERENCE_DIR

CATALOGUE_FILE = REFERENCE_DIR / "source_catalogue.csv"
KNOWN_URLS_FILE = REFERENCE_DIR / "source_known_urls.csv"
PERIOD_KINDS = ("year", "month", "current")
DOWNLOAD_KINDS = ("csv", "xlsx", "zip")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class CatalogueEntry:
    dataset: str
    product: str
    period_kind: str
    download_kind: str
    landing_pages: tuple[str, ...]
    follow_pattern: re.Pattern[str] | None
    follow_depth: int
    follow_limit: int
    file_pattern: re.Pattern[str] | None
    revised_pattern: re.Pattern[str] | None
    member_pattern: re.Pattern[str] | None
    cache_name: str
    source: str

    def period_of(self, name: str) -> str | None:
        """The period a file name stands for ('2024', '2024-05-01'), or None when it is not this product's."""
        if self.file_pattern is None:
            return None
        match = self.file_pattern.match(name)
        if match is None:
            return None
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        year = int(groups["year"]) if "year" in groups else 2000 + int(groups["yy"])
        if self.period_kind == "year":
            return f"{year:04d}"
        month_text = groups["month"][:3].lower()
        if month_text not in MONTHS:
            return None
        return f"{year:04d}-{MONTHS.index(month_text) + 1:02d}-01"

    def revision_rank(self, name: str) -> tuple[int, int]:
        """Higher for a revised or later-versioned release of the same period: (revised, version number)."""
        match = self.revised_pattern.search(name) if self.revised_pattern else None
        if match is None:
            return (0, 0)
        numbers = re.findall(r"\d+", match.group(0))
        return (1, int(numbers[-1]) if numbers else 0)

    def cache_name_for(self, url: str) -> str:
        return self.cache_name or file_name(url)


@dataclass(frozen=True)
class KnownURL:
    dataset: str
    product: str
    period: str
    url: str
    source: str


def _pattern(text: str) -> re.Pattern[str] | None:
    return re.compile(text) if text.strip() else None


def _read(path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def catalogue() -> dict[tuple[str, str], CatalogueEntry]:
    entries: dict[tuple[str, str], CatalogueEntry] = {}
    for row in _read(CATALOGUE_FILE):
        entry = CatalogueEntry(
            dataset=row["dataset"],
            product=row["product"],
            period_kind=row["period_kind"],
            download_kind=row["download_kind"],
            landing_pages=tuple(row["landing_pages"].split()),
            follow_pattern=_pattern(row["follow_pattern"]),
            follow_depth=int(row["follow_depth"] or 0),
            follow_limit=int(row["follow_limit"] or 0),
            file_pattern=_pattern(row["file_pattern"]),
            revised_pattern=_pattern(row["revised_pattern"]),
            member_pattern=_pattern(row["member_pattern"]),
            cache_name=row["cache_name"].strip(),
            source=row["source"],
        )
        if entry.period_kind not in PERIOD_KINDS or entry.download_kind not in DOWNLOAD_KINDS:
            raise ValueError(f"{CATALOGUE_FILE.name}: bad period_kind or download_kind for {entry.product}")
        for page in entry.landing_pages:
            check_official(page)
        entries[(entry.dataset, entry.product)] = entry
    return entries


@cache
def known_urls() -> tuple[KnownURL, ...]:
    known = tuple(KnownURL(**row) for row in _read(KNOWN_URLS_FILE))
    for item in known:
        check_official(item.url)
    return known


def entry_for(dataset: str, product: str) -> CatalogueEntry | None:
    return catalogue().get((dataset, product))


def known_for(dataset: str, product: str) -> list[KnownURL]:
    return [k for k in known_urls() if (k.dataset, k.product) == (dataset, product)]
