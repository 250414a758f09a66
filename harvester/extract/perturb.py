"""Realistic mutations of golden reports, for the robustness harness (tests/test_perturbations.py,
bench/robustness.py).

A golden file is parsed by its own front-end into rows of printed cells; a mutation rewrites
those rows the way a real publishing chain damages them (a label losing characters, stray spaces,
full-width digits, a page break inside table 3, a text layer emitting rows out of order …) and the
result is written back out as a real file of one of the shapes reports arrive in:

- ``tsv``: text copied out of a table, one row per line, cells separated by tabs;
- ``html``: a published page, one ``<table>`` per run of table rows, ``<br>`` for a line break
  inside a cell;
- ``glued``: archived page text whose cell separators were lost (each row one line of glued cells);
- ``pdftext``: a PDF text layer as pdftotext-style dumps print it (one row per line, cells
  separated by spaces, empty cells leave no trace, pages separated by form feeds).

Every mutation is deterministic for a given seed. It returns the new rows and the cells whose
*true* value it changed (e.g. an amount given decimals), so a harness scores against the golden
with those overrides. Nothing here knows a fixture by name.
"""
from __future__ import annotations

import html as _html
import random
import re
from dataclasses import dataclass, field
from typing import Callable

from harvester.extract import labels as L
from harvester.extract.cells import norm_label, read_value
from harvester.extract.layout import Layout
from harvester.extract.match import best_match

Rows = list[list[str]]
FORMATS = ("tsv", "html", "glued", "pdftext")

_HEADER_WORDS = tuple({norm_label(w) for words in L.TEMPLATE_MARKERS.values() for w in words} |
                      {norm_label(w) for cols in L.COLUMN_LABELS.values() for w in cols.values()
                       if len(norm_label(w)) >= 2} | {"自然人", "申请人情况", "信息内容"})
_FULLWIDTH = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@dataclass
class Mutated:
    rows: Rows
    fmt: str
    #: "table2.fees" -> {"amount_10k_yuan": 3817.254}: cells whose true value the mutation set.
    override: dict[str, dict[str, object]] = field(default_factory=dict)

    def render(self) -> bytes:
        return RENDER[self.fmt](self.rows)


# ---------------------------------------------------------------- cell roles

def is_number(text: str) -> bool:
    r = read_value(text)
    return r is not None and r.semantic in ("number", "zero")


def is_value(text: str) -> bool:
    return text.strip() == "" or read_value(text) is not None


def table_rows(rows: Rows) -> list[int]:
    """Indices of rows that print a label followed by numbers (a template row)."""
    return [i for i, r in enumerate(rows) if any(is_number(c) for c in r) and any(not is_value(c) for c in r)]


def label_index(row: list[str]) -> int | None:
    """Index of the row label: the last label cell before the first value cell."""
    first = next((i for i, c in enumerate(row) if c.strip() and is_value(c)), None)
    if first is None:
        return None
    labels = [i for i in range(first) if not is_value(row[i])]
    return labels[-1] if labels else None


def header_rows(rows: Rows) -> list[int]:
    return [i for i, r in enumerate(rows) if len(r) >= 2 and not any(is_number(c) for c in r)
            and any(any(w in norm_label(c) for w in _HEADER_WORDS) for c in r)]


def table3_span(rows: Rows) -> tuple[int, int] | None:
    """First and last row index of table 3's template rows (新收 … 结转下年度)."""
    idx = [i for i in table_rows(rows) if _t3_key(rows[i]) is not None]
    return (idx[0], idx[-1]) if len(idx) >= 3 else None


def _t3_key(row: list[str]) -> str | None:
    i = label_index(row)
    if i is None:
        return None
    key, score = best_match(row[i], {**L.TABLE3_TOP, **L.TABLE3_ITEMS})
    return key if score >= 0.99 else None


_PREFIX = re.compile(r"^(?:\s|[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．)）])*")


def _body_span(label: str) -> tuple[int, int]:
    """Where the label's words start and end (after numbering such as `（三）` or `1．`)."""
    prefix = _PREFIX.match(label)
    assert prefix is not None  # the pattern is a starred group: it matches every string, if only empty
    start = prefix.end()
    end = len(label)
    while end > start and not ("\u4e00" <= label[end - 1] <= "\u9fff"):
        end -= 1
    return start, end


# ---------------------------------------------------------------- mutations

def _typo(label: str, rng: random.Random) -> str:
    start, end = _body_span(label)
    body = label[start:end]
    if len(body) < 4:
        return label
    if rng.random() < 0.3 and len(body) >= 5:  # two neighbouring characters swapped
        i = rng.randrange(len(body) - 1)
        body = body[:i] + body[i + 1] + body[i] + body[i + 2:]
    else:
        n = 1 if len(body) < 7 else rng.choice((1, 2))
        for _ in range(n):
            i = rng.randrange(len(body))
            body = body[:i] + body[i + 1:]
    return label[:start] + body + label[end:]


def label_typo(rows: Rows, rng: random.Random, out: Mutated, share: float = 0.35) -> None:
    """1–2 characters dropped (or two swapped) in the labels of about a third of the table rows."""
    for i in table_rows(rows):
        j = label_index(rows[i])
        if j is not None and rng.random() < share:
            rows[i][j] = _typo(rows[i][j], rng)


def stray_spaces(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """Spaces and line breaks inside labels, spaces inside multi-digit numbers."""
    for i in table_rows(rows):
        for j, c in enumerate(rows[i]):
            if is_number(c) and len(c) >= 2 and rng.random() < 0.5:
                k = rng.randrange(1, len(c))
                rows[i][j] = c[:k] + " " + c[k:]
            elif not is_value(c) and len(c) >= 4 and rng.random() < 0.5:
                k = rng.randrange(1, len(c))
                rows[i][j] = c[:k] + rng.choice((" ", "\n", "  ", "\u3000")) + c[k:]


def fullwidth(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """Numbers printed with full-width digits (１２), as some CMS editors type them."""
    for i in table_rows(rows):
        rows[i] = [c.translate(_FULLWIDTH) if is_number(c) else c for c in rows[i]]


def thousands(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """Thousands separators in every number of four digits or more (1,234)."""
    for i in table_rows(rows):
        for j, c in enumerate(rows[i]):
            r = read_value(c)
            if r is not None and isinstance(r.value, int) and abs(r.value) >= 1000 and "," not in c:
                rows[i][j] = f"{r.value:,}"


def amount_units(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """The amount rows print decimals and units: 行政事业性收费 3817.254 (万元), a 2019 procurement
    total with its unit (75.3万元). The true values change accordingly (recorded as overrides)."""
    for i in table_rows(rows):
        j = label_index(rows[i])
        if j is None:
            continue
        label = norm_label(rows[i][j])
        values = [k for k in range(j + 1, len(rows[i])) if is_number(rows[i][k])]
        if label.endswith("行政事业性收费") and len(values) == 1:
            amount = round(rng.uniform(10, 9999), 3)
            text = f"{amount:.3f}".rstrip("0").rstrip(".")
            rows[i][values[0]] = text + rng.choice(("", "万元"))
            out.override["table2.fees"] = {"amount_10k_yuan": float(text) if "." in text else int(text)}
        elif label.endswith("政府集中采购") and len(values) == 2:
            total = f"{rng.uniform(1, 999):.1f}万元"
            rows[i][values[1]] = total
            items = read_value(rows[i][values[0]])
            assert items is not None  # values[0] was chosen by is_number()
            out.override["table2.procurement"] = {"items": items.value, "total_amount": total}


def extra_header_cell(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """Each header row gets one extra empty cell (a shifted merged header)."""
    for i in header_rows(rows):
        rows[i].insert(rng.choice((0, len(rows[i]))), "")


def page_split(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """Table 3 broken over two pages: a page footer and the next page's header between two rows."""
    span = table3_span(rows)
    if span is None:
        return
    at = rng.randrange(span[0] + 1, span[1] + 1)
    page = rng.randrange(2, 9)
    rows[at:at] = [["\f"], [f"— {page} —"], [f"第{page}页 共{page + 2}页"]]


def rows_out_of_order(rows: Rows, rng: random.Random, out: Mutated) -> None:
    """A PDF text layer's order: a tall merged group cell (（三）不予公开) comes out in the middle of its
    rows, and some neighbouring rows of table 3 are emitted swapped."""
    span = table3_span(rows)
    if span is None:
        return
    group_labels = {norm_label(g) for g in L.TABLE3_GROUPS.values()}
    i = span[0]
    while i <= span[1]:
        row = rows[i]
        g = next((j for j, c in enumerate(row) if norm_label(c) in group_labels), None)
        if g is not None:
            members = [i]
            k = i + 1
            while k <= span[1] and not any(norm_label(c) in group_labels for c in rows[k]) \
                    and _t3_key(rows[k]) and "." in (_t3_key(rows[k]) or ""):
                members.append(k)
                k += 1
            target = members[len(members) // 2]
            if target != i:
                cell = row.pop(g)
                row.insert(g, "")
                rows[target].insert(g, cell)
        i += 1
    pairs = [i for i in range(span[0], span[1]) if _t3_key(rows[i]) and _t3_key(rows[i + 1])]
    for i in rng.sample(pairs, min(2, len(pairs))):
        rows[i], rows[i + 1] = rows[i + 1], rows[i]


Mutation = Callable[[Rows, random.Random, Mutated], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    fmt: str
    steps: tuple[Mutation, ...]
    seeds: tuple[int, ...] = (1,)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("glued", "glued", ()),
    Scenario("label_typo", "html", (label_typo,), seeds=(1, 2, 3)),
    Scenario("stray_spaces", "html", (stray_spaces,), seeds=(1, 2)),
    Scenario("fullwidth", "tsv", (fullwidth,)),
    Scenario("thousands", "tsv", (thousands,)),
    Scenario("amount_units", "tsv", (amount_units,), seeds=(1, 2)),
    Scenario("amount_units+glued", "glued", (amount_units,), seeds=(1, 2)),
    Scenario("extra_header_cell", "html", (extra_header_cell,)),
    Scenario("page_split", "pdftext", (page_split,), seeds=(1, 2)),
    Scenario("rows_out_of_order", "pdftext", (rows_out_of_order,), seeds=(1, 2)),
    Scenario("label_typo+glued", "glued", (label_typo,), seeds=(1, 2)),
    Scenario("all (html)", "html", (label_typo, stray_spaces, fullwidth, thousands, amount_units,
                                    extra_header_cell, page_split, rows_out_of_order), seeds=(1, 2)),
    Scenario("all (glued)", "glued", (label_typo, fullwidth, thousands, amount_units, page_split,
                                      rows_out_of_order), seeds=(1, 2)),
)
#: The unmutated rows in each output shape: what the mutations are compared with.
BASELINES: tuple[Scenario, ...] = tuple(Scenario(f"baseline ({fmt})", fmt, ()) for fmt in FORMATS)


def apply(layout_rows: Rows, scenario: Scenario, seed: int, salt: str = "") -> Mutated:
    """The scenario's mutations applied to a copy of the rows; `salt` (e.g. the file name) varies
    the random choices between files while keeping each run identical."""
    rng = random.Random(f"{scenario.name}|{seed}|{salt}")
    out = Mutated([list(r) for r in layout_rows], scenario.fmt)
    for step in scenario.steps:
        step(out.rows, rng, out)
    return out


def rows_of(layout: Layout) -> Rows:
    """The layout's rows of cell texts. A stream without row ends (a dump with one cell per line) is
    cut into rows the way a table prints them: a new row where a label follows a value."""
    if layout.rows_reliable:
        return [[c.text for c in row] for row in layout.rows]
    rows: Rows = []
    for row in layout.rows:
        current: list[str] = []
        for c in row:
            if current and not is_value(c.text) and is_value(current[-1]):
                rows.append(current)
                current = []
            current.append(c.text)
        if current:
            rows.append(current)
    return rows


# ---------------------------------------------------------------- rendering

def _tsv(rows: Rows) -> bytes:
    return "\n".join("\t".join(c.replace("\n", " ") for c in r) for r in rows).encode("utf-8") + b"\n"


def _glued(rows: Rows) -> bytes:
    return "\n".join("".join(c.replace("\n", "") for c in r) for r in rows).encode("utf-8") + b"\n"


def _pdftext(rows: Rows) -> bytes:
    return "\n".join(" ".join(c.replace("\n", " ").strip() for c in r if c.strip()) for r in rows
                     ).replace("\n\f\n", "\f").encode("utf-8") + b"\n"


def _html_page(rows: Rows) -> bytes:
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>', _html.escape(rows[0][0] if rows else ""),
           "</title></head><body><div class=\"article-content\">"]
    in_table = False
    for r in rows:
        cells = [c for c in r]
        if len(cells) >= 2:
            if not in_table:
                out.append("<table border=\"1\">")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{_html.escape(c).replace(chr(10), '<br/>')}</td>" for c in cells)
                       + "</tr>")
        else:
            if in_table:
                out.append("</table>")
                in_table = False
            out.append(f"<p>{_html.escape(cells[0] if cells else '').replace(chr(10), '<br/>')}</p>")
    if in_table:
        out.append("</table>")
    out.append("</div></body></html>")
    return "\n".join(out).encode("utf-8")


RENDER: dict[str, Callable[[Rows], bytes]] = {"tsv": _tsv, "html": _html_page, "glued": _glued, "pdftext": _pdftext}
