"""Extraction settings: one frozen dataclass that rejects bad values with a precise error."""
from __future__ import annotations

from dataclasses import dataclass, fields

from harvester.errors import ConfigError


@dataclass(frozen=True)
class ExtractSettings:
    #: Documents larger than this many bytes are recorded with a `too_large` error, not parsed.
    max_bytes: int = 64 * 1024 * 1024
    #: Run OCR on pages without a text layer and on images.
    ocr: bool = True
    #: Resolution pages are rendered at for OCR.
    ocr_dpi: int = 150
    #: A value cell whose OCR confidence is below this is null (unreadable), never a guess.
    ocr_min_confidence: float = 0.90
    #: At most this many pages of one document are OCRed (a 200-page scan is not a report table).
    ocr_max_pages: int = 30

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("int", "float") and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ConfigError(f"ExtractSettings.{f.name} must be a number, got {value!r}")
        if self.max_bytes <= 0:
            raise ConfigError(f"ExtractSettings.max_bytes must be > 0, got {self.max_bytes!r}")
        if not 50 <= self.ocr_dpi <= 600:
            raise ConfigError(f"ExtractSettings.ocr_dpi must be between 50 and 600, got {self.ocr_dpi!r}")
        if not 0.0 <= self.ocr_min_confidence <= 1.0:
            raise ConfigError(f"ExtractSettings.ocr_min_confidence must be between 0 and 1, "
                              f"got {self.ocr_min_confidence!r}")
        if self.ocr_max_pages < 1:
            raise ConfigError(f"ExtractSettings.ocr_max_pages must be >= 1, got {self.ocr_max_pages!r}")


DEFAULT = ExtractSettings()
