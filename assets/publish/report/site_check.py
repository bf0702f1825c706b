"""What a built report must contain: its index, a page per benchmarking group and per ranked trust, nothing fetched
from the network. Pure: a folder and the published file's trusts in, a list of problems out."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from assets.publish.report.build import MANIFEST

# attributes through which a page loads or links to something; a network scheme in any of them is a problem
LINKING_ATTRIBUTES = {"src", "href", "srcset", "action", "data", "poster", "formaction"}
NETWORK_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_NETWORK_URL = re.compile(r"url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import\s+['\"]?(?:[a-z]+:)?//", re.I)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.network: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in LINKING_ATTRIBUTES and any(NETWORK_URL.match(part) for part in value.split(",")):
                self.network.append(f"<{tag} {name}={value!r}>")
            if name == "style" and CSS_NETWORK_URL.search(value):
                self.network.append(f"<{tag} style={value!r}>")


def network_references(page: Path) -> list[str]:
    """Tags of `page` that would load or link to anything over the network (http, https, protocol-relative)."""
    parser = _Links()
    text = page.read_text(encoding="utf-8")
    parser.feed(text)
    inline_css = re.findall(r"<style[^>]*>(.*?)</style>", text, re.S | re.I)
    return parser.network + [f"<style> {m.group(0)}" for css in inline_css for m in CSS_NETWORK_URL.finditer(css)]


def report_problems(folder: Path, groups: list[str], ranked_trusts: list[str]) -> list[str]:
    """Everything missing or unsafe in the report at `folder`, given the groups and ranked trusts it must cover."""
    if not (folder / "index.html").is_file():
        return [f"{folder}/index.html is missing"]
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    problems = []
    for group in groups:
        page = manifest["groups"].get(group)
        if page is None or not (folder / page).is_file():
            problems.append(f"no page for benchmarking group {group!r}")
    for code in ranked_trusts:
        page = manifest["trusts"].get(code)
        if page is None or not (folder / page).is_file():
            problems.append(f"no page for ranked trust {code}")
    for page in sorted(folder.rglob("*.html")):
        problems += [f"{page.relative_to(folder)} references the network: {tag}" for tag in network_references(page)]
    for sheet in sorted(folder.rglob("*.css")):
        if CSS_NETWORK_URL.search(sheet.read_text(encoding="utf-8")):
            problems.append(f"{sheet.relative_to(folder)} imports or loads something over the network")
    return problems
