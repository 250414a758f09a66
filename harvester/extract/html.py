"""HTML front-end: a published report page (any charset) → `Layout`.

The page's <title> is the first row/line; then the article body (a known
content container when the page has one, else <body>) in reading order:
paragraphs are one-cell rows, table rows are rows of their printed cells
(rowspan/colspan copies dropped), and a table that contains tables (the
layout tables TRS/Hanweb portals wrap around everything) is flattened: its
cells' paragraphs and inner tables are emitted in order instead.
"""
from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from harvester.extract.decode import decode_text
from harvester.extract.layout import Cell, Layout

#: Containers that hold the article body on the portals we know, most specific first.
#: The first selector that matches an element with real text wins (longest match).
CONTENT_SELECTORS: tuple[str, ...] = (
    "div.TRS_Editor",          # TRS WCM detail pages
    ".TRS_Editor",
    "ucapcontent",             # 沭阳 and other UCAP portals
    "#UCAP-CONTENT",
    "#zoom",                   # many TRS/Hanweb templates
    "#Zoom",
    "div.zoom",
    "#js_content",             # WeChat articles
    "div.article-content",
    "div.article_content",
    "div.article",
    "div.content",
    "#content",
    "article",
)
_MIN_CONTAINER_TEXT = 40

#: Elements whose content is never part of the text.
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "iframe", "object", "svg", "select", "button"})
#: Elements that start and end a paragraph.
_BLOCK = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "h1", "h2", "h3", "h4",
    "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "form", "fieldset", "address",
    "center", "figure", "figcaption", "caption", "hr", "tr", "td", "th", "ucapcontent", "body", "html",
})

_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")
_NL = re.compile(r"\s*\n\s*")


def _is_cjk(ch: str) -> bool:
    return ch >= "\u2e80" or ch in "“”‘’"


def collapse(text: str) -> str:
    """Collapse whitespace; line breaks vanish between CJK characters, else become one space."""
    text = _WS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    parts = [p.strip() for p in _NL.split(text)]
    out = ""
    for part in parts:
        if not part:
            continue
        if out and not (_is_cjk(out[-1]) and _is_cjk(part[0])):
            out += " "
        out += part
    return out


def _cell_text(node: Tag) -> str:
    """Text of a table cell: <br> and block boundaries are line breaks, then collapsed."""
    buf: list[str] = []

    def walk(n: Tag) -> None:
        for child in n.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                buf.append(str(child))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name in _SKIP or _hidden(child):
                    continue
                if name == "br":
                    buf.append("\n")
                elif name in _BLOCK:
                    buf.append("\n")
                    walk(child)
                    buf.append("\n")
                else:
                    walk(child)

    walk(node)
    return collapse("".join(buf))


def _hidden(tag: Tag) -> bool:
    style = (tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or tag.has_attr("hidden")


def _span(tag: Tag, attr: str) -> int:
    m = re.match(r"\s*(\d+)", str(tag.get(attr) or ""))
    return max(1, min(int(m.group(1)), 1000)) if m else 1


def _own_rows(table: Tag) -> list[Tag]:
    """The <tr>s of `table` itself, not those of nested tables."""
    rows: list[Tag] = []
    for child in table.children:
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name == "tr":
            rows.append(child)
        elif name in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child.children if isinstance(c, Tag) and c.name.lower() == "tr")
    return rows


def _own_cells(tr: Tag) -> list[Tag]:
    return [c for c in tr.children if isinstance(c, Tag) and c.name.lower() in ("td", "th")]


class _Walker:
    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        text = collapse("".join(self.buf))
        self.buf.clear()
        if text:
            self.rows.append([Cell(text)])

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if name in _SKIP or _hidden(child):
                continue
            if name == "br":
                self.flush()
            elif name == "table":
                self.flush()
                self.table(child)
            elif name in _BLOCK:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)

    def table(self, table: Tag) -> None:
        trs = _own_rows(table)
        if table.find("table") is not None:
            # a layout table: its cells are containers, read them in order
            for tr in trs:
                for td in _own_cells(tr):
                    self.walk(td)
                    self.flush()
            return
        # expand rowspan/colspan into a grid so each printed cell gets its true column
        occupied: set[tuple[int, int]] = set()
        for r, tr in enumerate(trs):
            placed: list[tuple[int, Cell]] = []
            col = 0
            for td in _own_cells(tr):
                while (r, col) in occupied:
                    col += 1
                rs, cs = _span(td, "rowspan"), _span(td, "colspan")
                for dr in range(rs):
                    for dc in range(cs):
                        occupied.add((r + dr, col + dc))
                placed.append((col, Cell(_cell_text(td))))
                col += cs
            if placed:
                placed.sort(key=lambda p: p[0])
                self.rows.append([c for _, c in placed])


def _container(soup: BeautifulSoup) -> Tag | None:
    for selector in CONTENT_SELECTORS:
        found = [t for t in soup.select(selector) if len(t.get_text(strip=True)) >= _MIN_CONTAINER_TEXT]
        if found:
            return max(found, key=lambda t: len(t.get_text(strip=True)))
    return soup.body or soup


def parse_html(data: bytes) -> Layout:
    text = decode_text(data)
    soup = BeautifulSoup(text, "lxml")
    title_tag = soup.find("title")
    title = collapse(title_tag.get_text()) if title_tag else ""
    walker = _Walker()
    root = _container(soup)
    if root is not None:
        walker.walk(root)
        walker.flush()
    rows = ([[Cell(title)]] if title else []) + walker.rows
    lines = ["\t".join(c.text for c in row) for row in rows]
    return Layout(text="\n".join(lines), rows=rows)
