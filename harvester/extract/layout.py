"""The format-neutral layout every front-end produces.

A front-end (text, HTML, PDF, ...) turns bytes into a `Layout`: the document's
plain text (for title, agency, year) and a list of rows of cells in reading
order. Paragraphs outside tables are one-cell rows; table rows are the grid's
rows with merged (rowspan/colspan) copies *dropped*, so each printed cell
appears once, the way a text dump prints it. When a front-end cannot tell
where rows end (a dump with one cell per line and nothing else), it emits the
whole stream as one row and sets `rows_reliable=False`.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cell:
    text: str
    page: int | None = None  # 1-based page number (PDF), None otherwise
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom (PDF points)
    confidence: float | None = None  # OCR: the lowest score of the text boxes in the cell
    unreadable: bool = False  # OCR: a value cell read with too little confidence to trust


@dataclass
class Layout:
    text: str
    rows: list[list[Cell]] = field(default_factory=list)
    rows_reliable: bool = True
    pages: int | None = None
