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
from itertools import combinations
from typing import TYPE_CHECKING, Callable, Hashable, Iterable, Mapping, Sequence, TypeVar
import functools

if TYPE_CHECKING:
    from harvester.extract.checks import Equation

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
#: A cell address: (table, row key, column key).
Ref = tuple[str, str, str]
#: A row key of `solve` (the caller's: interpret uses (table, row)).
K = TypeVar("K", bound=Hashable)
#: One candidate reading of a row as `solve` sees it: per column a value (`value_of` turns it into a number).
Option = tuple[object, ...]
#: An equation with the (row, index) of each of its cells (lhs then rhs).
_Located = tuple["Equation", list[tuple[K, int]]]


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


def placements(k: int, n: int) -> list[tuple[int, ...]]:
    """Every way `k` printed values (in order) sit in `n` columns when the blank cells between them
    left no trace (a text layer drops empty cells): the column index of each value."""
    return list(combinations(range(n), k)) if 0 < k <= n else []


def solve(rows: Mapping[K, Sequence[Option]], equations: Iterable[Equation],
          locate: Callable[[Ref], tuple[K, int] | None],
          value_of: Callable[[object], object] = lambda v: v, strict: frozenset[K] = frozenset()
          ) -> tuple[dict[K, list[Option]], bool]:
    """Keep, per row, the readings that take part in at least one choice of readings (one per row)
    under which every equation holds: the whole document at once.

    `rows`: row -> its candidate readings; `locate(ref)`: the (row, index) holding a cell, or None
    when that row is not printed (an equation touching it is left out). Returns the surviving
    readings and whether the search settled (False: no full choice fits — the printed arithmetic
    is broken — or the search was too large; then those rows keep all their own readings)."""

    live = {k: list(dict.fromkeys(v)) for k, v in rows.items() if v}
    usable: list[_Located[K]] = []
    for eq in equations:
        refs = [locate(r) for r in eq.lhs + eq.rhs]
        located = [r for r in refs if r is not None]
        if len(located) == len(refs) and all(r[0] in live for r in located):
            usable.append((eq, located))
    # row-local equations first: they prune a row's own readings. A reconstructed row (`strict`:
    # glued digits, cells lost or added) must satisfy the template's own rules on it — if none of its
    # readings does, the reconstruction cannot be trusted and it keeps none; a row printed cell by cell
    # keeps its numbers even where they break the arithmetic (that is a failed check, not a misreading).
    for key in list(live):
        local = [(eq, refs) for eq, refs in usable if {r[0] for r in refs} == {key}]
        for narrative in (False, True):
            mine = [(eq, refs) for eq, refs in local if eq.rule.startswith("narrative.") == narrative]
            if mine:
                fit = [c for c in live[key] if all(_holds(eq, refs, {key: c}, value_of) for eq, refs in mine)]
                live[key] = fit if (fit or (key in strict and not narrative)) else live[key]
    live = {k: v for k, v in live.items() if v}
    usable = [(eq, refs) for eq, refs in usable if all(r[0] in live for r in refs)]
    shared = [(eq, refs) for eq, refs in usable if len({r[0] for r in refs}) > 1]
    settled = True
    for component in _components(live, shared):
        if all(len(live[k]) == 1 for k in component):
            continue
        eqs = [(eq, refs) for eq, refs in shared if refs[0][0] in component]
        kept = _search({k: live[k] for k in component}, eqs, value_of)
        if kept is None:
            settled = False
            continue
        live.update(kept)
    return live, settled


def _components(live: Mapping[K, object], shared: list[_Located[K]]) -> list[set[K]]:
    """Rows linked by the equations they share (each searched on its own)."""
    parent = {k: k for k in live}

    def root(k: K) -> K:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for _eq, refs in shared:
        first = root(refs[0][0])
        for r in refs[1:]:
            parent[root(r[0])] = first
    groups: dict[K, set[K]] = {}
    for k in live:
        groups.setdefault(root(k), set()).add(k)
    return list(groups.values())


def _search(live: Mapping[K, list[Option]], eqs: list[_Located[K]], value_of: Callable[[object], object]
            ) -> dict[K, list[Option]] | None:
    """Readings of these rows that take part in a full choice satisfying `eqs`; None when no
    choice does or the search is too large."""
    order = sorted(live, key=lambda k: len(live[k]))
    position = {k: i for i, k in enumerate(order)}
    by_last: dict[K, list[_Located[K]]] = {k: [] for k in order}
    for eq, refs in eqs:
        by_last[max((r[0] for r in refs), key=position.__getitem__)].append((eq, refs))
    kept: dict[K, set[Option]] = {k: set() for k in order}
    choice: dict[K, Option] = {}
    budget = [MAX_COMBINATIONS]

    def walk(i: int) -> None:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if i == len(order):
            for k, c in choice.items():
                kept[k].add(c)
            return
        key = order[i]
        for cand in live[key]:
            choice[key] = cand
            if all(_holds(eq, refs, choice, value_of) for eq, refs in by_last[key]):
                walk(i + 1)
        del choice[key]

    walk(0)
    if budget[0] <= 0 or not any(kept.values()):
        return None
    return {k: [c for c in live[k] if c in kept[k]] for k in live}


def _holds(eq: Equation, refs: list[tuple[K, int]], choice: Mapping[K, Option],
           value_of: Callable[[object], object]) -> bool:
    from harvester.extract.checks import sides

    it = iter(refs)
    got = sides(eq, lambda r: _cell(choice, next(it), value_of))
    return got is None or abs(got[0] - got[1]) < 1e-6


def _cell(choice: Mapping[K, Option], ref: tuple[K, int], value_of: Callable[[object], object]) -> object:
    value = value_of(choice[ref[0]][ref[1]])
    return 0 if value is None else value
