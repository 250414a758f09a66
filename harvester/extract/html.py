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
import threading
from typing import Any

from lxml import etree

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

#: An lxml element (lxml.etree._Element; lxml ships no type information). Also the DOCX and OFD readers'.
Element = Any

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


_NO_TEXT = frozenset({"script", "style", "template"})  # bs4 get_text() leaves these out


def _name(el: Element) -> str | None:
    """Lower-case tag name, or None for comments, processing instructions and entities."""
    tag = el.tag
    return tag.lower() if isinstance(tag, str) else None


def _cell_text(node: Element) -> str:
    """Text of a table cell: <br> and block boundaries are line breaks, then collapsed."""
    buf: list[str] = []

    def walk(n: Element) -> None:
        if n.text:
            buf.append(n.text)
        for child in n:
            name = _name(child)
            if name is not None and not (name in _SKIP or _hidden(child)):
                if name == "br":
                    buf.append("\n")
                elif name in _BLOCK:
                    buf.append("\n")
                    walk(child)
                    buf.append("\n")
                else:
                    walk(child)
            if child.tail:
                buf.append(child.tail)

    walk(node)
    return collapse("".join(buf))


def _hidden(el: Element) -> bool:
    attrib = el.attrib
    if "hidden" in attrib:
        return True
    style = attrib.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()


def _span(el: Element, attr: str) -> int:
    value = el.get(attr)
    if not value:
        return 1
    m = _DIGITS.match(value)
    return max(1, min(int(m.group(1)), 1000)) if m else 1


_DIGITS = re.compile(r"\s*(\d+)")


def _own_rows(table: Element) -> list[Element]:
    """The <tr>s of `table` itself, not those of nested tables."""
    rows: list[Element] = []
    for child in table:
        name = _name(child)
        if name == "tr":
            rows.append(child)
        elif name in ("thead", "tbody", "tfoot"):
            rows.extend(c for c in child if _name(c) == "tr")
    return rows


def _own_cells(tr: Element) -> list[Element]:
    return [c for c in tr if _name(c) in ("td", "th")]


def _has_table_inside(table: Element) -> bool:
    return any(_name(el) == "table" for el in table.iterdescendants())


class _Walker:
    def __init__(self) -> None:
        self.rows: list[list[Cell]] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        text = collapse("".join(self.buf))
        self.buf.clear()
        if text:
            self.rows.append([Cell(text)])

    def walk(self, node: Element) -> None:
        if node.text:
            self.buf.append(node.text)
        for child in node:
            name = _name(child)
            if name is not None and not (name in _SKIP or _hidden(child)):
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
            if child.tail:
                self.buf.append(child.tail)

    def table(self, table: Element) -> None:
        trs = _own_rows(table)
        if _has_table_inside(table):
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
                if rs > 1 or cs > 1:
                    for dr in range(rs):
                        for dc in range(cs):
                            occupied.add((r + dr, col + dc))
                placed.append((col, Cell(_cell_text(td))))
                col += cs
            if placed:
                placed.sort(key=lambda p: p[0])
                self.rows.append([c for _, c in placed])


def _parse_selector(selector: str) -> tuple[str | None, str | None, str | None]:
    """(tag, class, id) of the simple selectors in CONTENT_SELECTORS."""
    if selector.startswith("#"):
        return None, None, selector[1:]
    tag, _, cls = selector.partition(".")
    return tag or None, cls or None, None


_SELECTORS = tuple(_parse_selector(s) for s in CONTENT_SELECTORS)
#: Tag names a selector can match without any attribute.
_BARE_TAGS = frozenset(n for n, c, i in _SELECTORS if n is not None and c is None and i is None)
#: When every selector names its tag, only those tags are visited.
_TAG_NAMES = () if any(n is None for n, _, _ in _SELECTORS) else tuple({n for n, _, _ in _SELECTORS})


def _text_size(el: Element) -> int:
    """len(get_text(strip=True)): the stripped text of the element, without comments and scripts."""
    n = 0
    stack = [el]
    while stack:
        e = stack.pop()
        name = _name(e)
        if name is not None and name not in _NO_TEXT and e.text:
            n += len(e.text.strip())
        if e is not el and e.tail:
            n += len(e.tail.strip())
        if name is not None:
            stack.extend(e)
    return n


def _container(root: Element) -> Element:
    """The element holding the article body: the first selector's largest match with real text,
    else <body>, else the root."""
    # one walk over the elements for all the selectors (soupsieve's select() walked the tree once
    # per selector and was most of the time of a page)
    found: list[list[Element]] = [[] for _ in _SELECTORS]
    for el in root.iter(_TAG_NAMES or None):
        name = _name(el)
        if name is None or not (el.attrib or name in _BARE_TAGS):
            continue
        classes = None
        for i, (sel_name, cls, ident) in enumerate(_SELECTORS):
            if sel_name is not None and name != sel_name:
                continue
            if cls is not None:
                if classes is None:
                    classes = (el.get("class") or "").split()
                if cls not in classes:
                    continue
            if ident is not None and el.get("id") != ident:
                continue
            found[i].append(el)
    for tags in found:
        sized = [(_text_size(t), t) for t in tags]
        sized = [(n, t) for n, t in sized if n >= _MIN_CONTAINER_TEXT]
        if sized:
            best = max(n for n, _ in sized)
            return next(t for n, t in sized if n == best)
    body = next((el for el in root.iter("body")), None)
    return body if body is not None else root


_LOCAL = threading.local()  # an lxml parser must not be used by two threads at once


def _parse(text: str) -> Element | None:
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        # plain lxml elements: lxml.html's element-class lookup costs on every node visited
        parser = _LOCAL.parser = etree.HTMLParser(encoding="utf-8", remove_comments=False)
    try:
        return etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # nothing parseable
        return None


def parse_html(data: bytes) -> Layout:
    text = decode_text(data)
    root = _parse(text)
    if root is None:
        return Layout(text="", rows=[])
    title_tag = next((el for el in root.iter("title")), None)
    title = collapse("".join(title_tag.itertext())) if title_tag is not None else ""
    walker = _Walker()
    walker.walk(_container(root))
    walker.flush()
    rows = ([[Cell(title)]] if title else []) + walker.rows
    lines = ["\t".join(c.text for c in row) for row in rows]
    return Layout(text="\n".join(lines), rows=rows)
