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
from itertools import product
from math import prod
from typing import Callable, Iterable
import functools

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


def readings(text: str, n: int, group: int | None = None, signed: frozenset[int] = frozenset()) -> list[Reading]:
    """Every reading of `text` as n cells (some possibly blank).

    `group`: the row is made of groups of this many cells whose last cell is the sum of the
    others (7 for a table-3 row, 5 for each table-4 group); readings that break it are not
    produced. `signed`: the columns that may hold a negative value (本年增/减). Cells are filled
    left to right, each blank or the next value of the string; a memo of which (cell, position,
    partial sum) states can still complete keeps the search to the readings that exist."""

    def options(i: int, pos: int) -> list[tuple[int | None, int]]:
        out: list[tuple[int | None, int]] = [(None, pos)]
        for end in range(pos + 1, min(len(text), pos + MAX_DIGITS + (text[pos:pos + 1] == "-")) + 1):
            part = text[pos:end]
            if _PART.fullmatch(part) and (i in signed or not part.startswith("-")):
                out.append((int(part), end))
        return out

    def step(i: int, gsum: int, value: int | None) -> int | None:
        """The group's running sum after cell i, or None if cell i closes a group that does not add up."""
        if group is None:
            return 0
        if (i + 1) % group == 0:
            return 0 if (value or 0) == gsum else None
        return gsum + (value or 0)

    @functools.cache
    def can(i: int, pos: int, gsum: int) -> bool:
        if i == n:
            return pos == len(text)
        if len(text) - pos > (n - i) * (MAX_DIGITS + 1):
            return False
        return any((nxt_sum := step(i, gsum, v)) is not None and can(i + 1, nxt, nxt_sum) for v, nxt in options(i, pos))

    out: list[Reading] = []
    acc: list[int | None] = []

    def walk(i: int, pos: int, gsum: int) -> None:
        if len(out) >= MAX_READINGS:
            return
        if i == n:
            out.append(tuple(acc))
            return
        for value, nxt in options(i, pos):
            nxt_sum = step(i, gsum, value)
            if nxt_sum is not None and can(i + 1, nxt, nxt_sum):
                acc.append(value)
                walk(i + 1, nxt, nxt_sum)
                acc.pop()

    if can(0, 0, 0):
        walk(0, 0, 0)
    return out


def solve(rows: dict[str, list[Reading]], constraints: Iterable[Constraint]) -> dict[str, list[Reading]]:
    """Keep, per row, the readings that take part in at least one choice satisfying every constraint.

    When no choice satisfies them (the printed arithmetic is broken) or there are too many to try,
    each row keeps all its own readings."""
    constraints = list(constraints)
    live = {k: v for k, v in rows.items() if v}
    names = list(live)
    if prod(len(v) for v in live.values()) > MAX_COMBINATIONS:
        return live
    kept: dict[str, set[Reading]] = {k: set() for k in names}
    for combo in product(*(live[k] for k in names)):
        choice = dict(zip(names, combo))
        if all(c(choice) for c in constraints):
            for k, r in choice.items():
                kept[k].add(r)
    if not any(kept.values()):
        return live
    return {k: [r for r in live[k] if r in kept[k]] for k in names}
