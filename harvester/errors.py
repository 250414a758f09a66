"""The typed error tree. Every error a document can raise during extraction
is an `ExtractError`; its `kind` is what lands in the JSON `error.kind` and in
the `extraction_errors` table."""
from __future__ import annotations


class HarvesterError(Exception):
    """Base of every error the harvester raises on purpose."""


class ExtractError(HarvesterError):
    kind = "extract_failed"


class EmptyDocument(ExtractError):
    kind = "empty"


class CorruptDocument(ExtractError):
    kind = "corrupt"


class EncryptedDocument(ExtractError):
    kind = "encrypted"


class UnsupportedFormat(ExtractError):
    kind = "unsupported_format"


class TooLarge(ExtractError):
    kind = "too_large"


class NotAReport(ExtractError):
    kind = "not_a_report"


class ConverterMissing(ExtractError):
    kind = "converter_missing"


class ConfigError(HarvesterError):
    """A bad setting or registry entry: the message names the field and the value."""
