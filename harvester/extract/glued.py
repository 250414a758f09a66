"""Digit strings whose cell separators were lost ("801000081" for 80|1|0|0|0|0|81).

Archived page text often glues a table row's numbers together, and a blank
cell leaves no trace at all. Every way of reading the string as the row's
values is enumerated (no leading zeros, a `-` only at the start of a value,
any cell possibly blank); the template's arithmetic and numbers the prose
states then select among them. A cell keeps a value only when every reading
that fits agrees on it: otherwise it is null and a check says why.
"""
from __future__ import annotations

import re
from itertools import combinations, product
from math import prod
from typing import Callable, Iterable

_PART = re.compile(r"-?(?:0|[1-9]\d*)")
_GLUED = re.compile(r"-?\d+(?:-\d+)*")
#: Longest value accepted in a glued string (a count of over 9,999,999 is not a report number).
MAX_DIGITS = 7
#: Give up enumerating beyond this many readings of one string.
MAX_READINGS = 100_000
#: Give up the joint search across rows beyond this many combinations.
MAX_COMBINATIONS = 300_000

#: One reading of a row: per column the value, or None for a blank cell (which counts as 0).
Reading = tuple[int | None, ...]
Constraint = Callable[[dict[str, Reading]], bool]


def glued_text(text: str) -> str | None:
    """The digit string if `text` is glued numbers (spaces and thousands commas dropped)."""
    squeezed = re.sub(r"[\s,，]", "", text)
    return squeezed if _GLUED.fullmatch(squeezed) else None


def _cuts(text: str, k: int) -> list[tuple[int, ...]]:
    """Every way to cut `text` into exactly k integers."""
    out: list[tuple[int, ...]] = []

    def walk(pos: int, acc: list[int]) -> None:
        if len(out) >= MAX_READINGS:
            return
        if len(acc) == k:
            if pos == len(text):
                out.append(tuple(acc))
            return
        if len(text) - pos < k - len(acc):
            return
        for end in range(pos + 1, min(len(text), pos + MAX_DIGITS + (text[pos] == "-")) + 1):
            part = text[pos:end]
            if _PART.fullmatch(part):
                acc.append(int(part))
                walk(end, acc)
                acc.pop()

    walk(0, [])
    return out


def readings(text: str, n: int, accept: Callable[[Reading], bool] = lambda r: True) -> list[Reading]:
    """Every reading of `text` as n cells (some possibly blank) that `accept` admits."""
    out: list[Reading] = []
    for k in range(n, 0, -1):
        for parts in _cuts(text, k):
            for printed in combinations(range(n), k):
                row: list[int | None] = [None] * n
                for pos, value in zip(printed, parts):
                    row[pos] = value
                reading = tuple(row)
                if accept(reading):
                    out.append(reading)
                    if len(out) >= MAX_READINGS:
                        return out
    return out


def num(v: int | None) -> int:
    return 0 if v is None else v


def solve(rows: dict[str, list[Reading]], constraints: Iterable[Constraint]
          ) -> tuple[dict[str, list[Reading]], bool]:
    """Keep, per row, the readings that take part in at least one choice satisfying every constraint.

    Returns the surviving readings per row and whether the constraints were applied (False when no
    choice satisfies them — the printed arithmetic is broken — or there are too many to try: then
    each row keeps all its own readings)."""
    constraints = list(constraints)
    live = {k: v for k, v in rows.items() if v}
    names = list(live)
    if prod(len(v) for v in live.values()) > MAX_COMBINATIONS:
        return live, False
    kept: dict[str, set[Reading]] = {k: set() for k in names}
    for combo in product(*(live[k] for k in names)):
        choice = dict(zip(names, combo))
        if all(c(choice) for c in constraints):
            for k, r in choice.items():
                kept[k].add(r)
    if not any(kept.values()):
        return live, False
    return {k: [r for r in live[k] if r in kept[k]] for k in names}, True
