"""Matching printed labels to keys, tolerant of spacing, punctuation, numbering and small typos."""
from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache
from typing import Mapping, Sequence

from harvester.extract.cells import norm_label

#: Minimum similarity for a label with a typo to count as a match.
THRESHOLD = 0.8


@lru_cache(maxsize=4096)
def similarity(printed: str, canonical: str) -> float:
    """1.0 when the normalized printed label equals or (for short additions) contains the canonical one."""
    a, b = norm_label(printed), norm_label(canonical)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if len(b) >= 4 and b in a and len(a) <= len(b) + 12:
        return 0.99
    if len(b) < 4 or len(a) > 3 * len(b) + 10:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def best_match(printed: str, candidates: Mapping[str, Sequence[str]]) -> tuple[str | None, float]:
    """The key whose label is most similar to `printed`, if at or above the threshold."""
    best_key, best = None, 0.0
    for key, labels in candidates.items():
        for label in labels:
            s = similarity(printed, label)
            if s > best:
                best_key, best = key, s
    return (best_key, best) if best >= THRESHOLD else (None, best)
