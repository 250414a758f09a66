"""The version of the extractor. Raise it whenever a change in `harvester.extract` can change
what is read from a document (cells, checks, metadata, errors): every document records the
version that produced its rows, and `harvester reextract` redoes those extracted by an older one."""
from __future__ import annotations

#: 1 = the first version recorded (documents extracted before versions were recorded have 0).
EXTRACTOR_VERSION: int = 1
