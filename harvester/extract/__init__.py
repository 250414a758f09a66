"""Pure extraction: bytes in, a `ReportRecord` out.

No network, no database, no Scrapy here. `extract()` is the one entry point
used by the CLI (`harvester extract`), the crawl/ingest pipeline and the tests.
"""
from __future__ import annotations

import functools
import hashlib
from importlib import import_module
from typing import Callable

from harvester.errors import EmptyDocument, ExtractError, NotAReport, TooLarge, UnsupportedFormat
from harvester.extract import sniff as _sniff
from harvester.extract.layout import Layout
from harvester.extract.record import ExtractionError, ReportRecord
from harvester.extract.settings import DEFAULT, ExtractSettings
from harvester.extract.version import EXTRACTOR_VERSION

__all__ = ["extract", "ExtractSettings", "ReportRecord", "EXTRACTOR_VERSION"]

# media type -> "module:function" turning bytes into a Layout
_FRONT_ENDS: dict[str, str] = {
    _sniff.TEXT: "harvester.extract.text:parse_text",
    _sniff.HTML: "harvester.extract.html:parse_html",
    _sniff.PDF: "harvester.extract.pdf:parse_pdf",
    _sniff.DOCX: "harvester.extract.docx:parse_docx",
    _sniff.XLSX: "harvester.extract.xlsx:parse_xlsx",
    _sniff.OLE: "harvester.extract.ole:parse_ole",
    _sniff.PNG: "harvester.extract.ocr:parse_image",
    _sniff.JPEG: "harvester.extract.ocr:parse_image",
    _sniff.GIF: "harvester.extract.ocr:parse_image",
    _sniff.OFD: "harvester.extract.ofd:parse_ofd",
}
#: Why a format has no extractor, in words a user can act on.
_UNSUPPORTED: dict[str, str] = {
    _sniff.ZIP: "a zip archive: unpack it and ingest its files",
    _sniff.BINARY: "unrecognised binary content",
}
#: Front-ends that take the settings as a second argument.
_TAKES_SETTINGS = {_sniff.PDF, _sniff.PNG, _sniff.JPEG, _sniff.GIF}


def _front_end(media_type: str, settings: ExtractSettings = DEFAULT) -> Callable[[bytes], Layout]:
    """The front-end turning bytes of `media_type` into a Layout, with `settings` bound for the
    front-ends that take them."""
    target = _FRONT_ENDS.get(media_type)
    if target is None:
        raise UnsupportedFormat(_UNSUPPORTED.get(media_type, f"no extractor for {media_type}") +
                                "; the raw file is archived and can be re-extracted later")
    module, func = target.split(":")
    parse: Callable[..., Layout] = getattr(import_module(module), func)
    return functools.partial(parse, settings=settings) if media_type in _TAKES_SETTINGS else parse


def extract(data: bytes, source: str = "<bytes>", media_type: str | None = None,
            settings: ExtractSettings = DEFAULT) -> ReportRecord:
    """Extract one document. Never raises for bad input: errors go in `record.error`."""
    from harvester.extract.interpret import interpret  # local: keeps import of the package cheap

    record = ReportRecord(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        media_type=media_type or _sniff.sniff(data, source),
    )
    try:
        if not data.strip():
            raise EmptyDocument("the document is empty")
        if len(data) > settings.max_bytes:
            raise TooLarge(f"{len(data)} bytes is over the {settings.max_bytes}-byte limit")
        if record.media_type == _sniff.SOURCE:
            raise NotAReport("program source code, not a report")
        layout = _front_end(record.media_type, settings)(data)
        interpret(layout, record)
    except ExtractError as exc:
        _failed(record, ExtractionError(exc.kind, str(exc)))
    except Exception as exc:  # noqa: BLE001 - a library choking on hostile input must not stop a crawl
        _failed(record, ExtractionError("extract_failed", f"{type(exc).__name__}: {exc}"))
    return record


def _failed(record: ReportRecord, error: ExtractionError) -> None:
    """A failed document keeps its metadata and text but no half-built tables."""
    record.error = error
    record.template = record.table2 = record.table3 = record.table4 = None
    record.cells, record.blank_cells, record.checks = [], [], []
