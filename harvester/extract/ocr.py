"""OCR for scanned pages and images: text boxes → table grid, with per-cell confidence.

The engine is RapidOCR (PP-OCR models shipped inside the `rapidocr` wheel, run
on onnxruntime): nothing is downloaded at run time. OCR returns text boxes,
not tables, so the grid is rebuilt from the image's ruling lines: horizontal
lines cut the page into bands; a band crossed by vertical lines is a table
row whose cells are the intervals between them; boxes are placed by their
centre. Bands without vertical lines are prose, grouped into lines. A value
cell read below the confidence threshold is marked unreadable (null), never
guessed.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, cast

import numpy as np

from harvester.errors import ConverterMissing, CorruptDocument, NotAReport
from harvester.extract.layout import Cell, Layout
from harvester.extract.settings import DEFAULT, ExtractSettings
from harvester.extract.text import _join

if TYPE_CHECKING:
    from PIL.Image import Image
    from rapidocr import RapidOCR
    from rapidocr.utils.output import RapidOCROutput

_ENGINE: RapidOCR | None = None
_LOCK = threading.Lock()
#: Short texts made of digits and the characters OCR confuses with them: a value cell.
_NUMERIC_ISH = re.compile(r"^[\dOoIl|SsBZz.,，、\-—/\s]{1,8}$")


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    score: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


#: RapidOCR parameters. Recognition is most of the time of a table page (≈ 85 %): every text box is
#: resized to 48 px high and padded to the widest box of its batch, but at least to the width of
#: `rec_img_shape`. RapidOCR's default 320 px made each one-digit cell of a table cost as much as a
#: 6.7:1 text line. 128 px cuts the recognition time by about half and reads the derived scan with
#: no null cell (320 px: one; 96 px: two; 48 px misreads "0" as "O"). Small batches (6) pad less than
#: large ones (16) after RapidOCR's sort by width. Detection stays at full resolution: shrinking it
#: to 1280 px saved ≈ 0.5 s a page but lost a digit.
ENGINE_PARAMS = {
    "Global.use_cls": False,
    "Global.log_level": "critical",
    "Rec.rec_batch_num": 6,
    "Rec.rec_img_shape": [3, 48, 128],
}


def engine() -> RapidOCR:
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:  # pragma: no cover - depends on the install
                raise ConverterMissing("OCR needs the Python package rapidocr (pip install rapidocr onnxruntime)") from exc
            _ENGINE = RapidOCR(params=ENGINE_PARAMS)
        return _ENGINE


def read_boxes(image: Image) -> list[Box]:
    """Run OCR on a PIL image."""
    # Detection and recognition on, classification off: RapidOCR returns its whole output (its other
    # result types are those of a pipeline with a step left out).
    result = cast("RapidOCROutput", engine()(np.asarray(image.convert("RGB")), use_cls=False))
    if result.boxes is None or result.txts is None or result.scores is None:  # no text (all three None)
        return []
    out = []
    for quad, text, score in zip(result.boxes, result.txts, result.scores):
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        out.append(Box(min(xs), min(ys), max(xs), max(ys), text.strip(), float(score)))
    return out


def _runs(mask_1d: np.ndarray, gap: int = 3) -> list[int]:
    """Centres of runs of True in a 1-D mask (runs closer than `gap` merge)."""
    idx = np.flatnonzero(mask_1d)
    if idx.size == 0:
        return []
    groups, start, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - prev > gap:
            groups.append((start + prev) // 2)
            start = i
        prev = i
    groups.append((start + prev) // 2)
    return [int(g) for g in groups]


def ruling_lines(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of horizontal and vertical ruling lines."""
    import cv2

    bw = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    h, w = bw.shape
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(12, h // 120))))
    return horiz > 0, vert > 0


def _lines_of(boxes: list[Box]) -> list[list[Box]]:
    """Group boxes into text lines by vertical overlap, each line left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.cy):
        if lines and abs(box.cy - np.mean([b.cy for b in lines[-1]])) <= 0.5 * (box.y1 - box.y0):
            lines[-1].append(box)
        else:
            lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _text(boxes: list[Box]) -> str:
    text = ""
    for line in _lines_of(boxes):
        for b in line:
            text = _join(text, b.text)
    return text


def _cell(boxes: list[Box], page: int, scale: float, settings: ExtractSettings,
          rect: tuple[float, float, float, float]) -> Cell:
    if not boxes:
        return Cell("", page=page, bbox=rect)
    text = _text(boxes)
    conf = min(b.score for b in boxes)
    low = conf < settings.ocr_min_confidence and bool(_NUMERIC_ISH.match(text))
    return Cell(text, page=page, bbox=rect, confidence=round(conf, 4), unreadable=low)


def page_rows(image: Image, page: int, settings: ExtractSettings = DEFAULT, scale: float = 1.0) -> list[list[Cell]]:
    """OCR one page image into rows of cells (tables) and one-cell rows (prose), top to bottom."""
    boxes = [b for b in read_boxes(image) if b.text]
    gray = np.asarray(image.convert("L"))
    horiz, vert = ruling_lines(gray)
    return grid_rows(boxes, horiz, vert, page, settings, scale)


def grid_rows(boxes: list[Box], horiz: np.ndarray, vert: np.ndarray, page: int,
              settings: ExtractSettings = DEFAULT, scale: float = 1.0) -> list[list[Cell]]:
    """Text boxes + masks of horizontal and vertical ruling lines (same pixel grid) → rows of cells
    (tables) and one-cell rows (prose), top to bottom. Used by OCR and by the OFD reader (vector
    text and lines drawn into masks). Cell bboxes are pixel rectangles divided by `scale`."""
    h, w = horiz.shape
    ys = _runs(horiz.sum(axis=1) >= 0.15 * w)
    items: list[tuple[float, list[Cell]]] = []
    used: set[int] = set()
    for y0, y1 in zip(ys, ys[1:]):
        if y1 - y0 < 8:
            continue
        inner = vert[y0 + 2:y1 - 1, :]
        xs = _runs(inner.sum(axis=0) >= 0.7 * inner.shape[0])
        if len(xs) < 2:
            continue
        band = [i for i, b in enumerate(boxes) if y0 <= b.cy < y1 and i not in used]
        row: list[Cell] = []
        for x0, x1 in zip(xs, xs[1:]):
            mine = [i for i in band if x0 <= boxes[i].cx < x1]
            used.update(mine)
            rect = (x0 / scale, y0 / scale, x1 / scale, y1 / scale)
            row.append(_cell([boxes[i] for i in mine], page, scale, settings, rect))
        items.append((y0, row))
    prose = [b for i, b in enumerate(boxes) if i not in used]
    for line in _lines_of(prose):
        items.append((min(b.y0 for b in line), [Cell(_text(line), page=page)]))
    items.sort(key=lambda it: it[0])
    return [row for _, row in items]


def parse_image(data: bytes, settings: ExtractSettings = DEFAULT) -> Layout:
    """An image (a table pasted into a page as a picture, or one scanned page)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(BytesIO(data))
        if image.width * image.height > 60_000_000:
            raise CorruptDocument(f"image of {image.width}x{image.height} pixels is too large to OCR")
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise CorruptDocument(f"unreadable image: {exc}") from exc
    rows = page_rows(image, 1, settings)
    text = "\n".join(" ".join(c.text for c in row if c.text) for row in rows)
    if not text.strip():
        raise NotAReport("OCR found no text in the image: a photo or drawing, not a report")
    return Layout(text=text, rows=rows, pages=1)
