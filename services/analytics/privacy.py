"""Small-group suppression, including suppression against differencing.

Cells are keyed (team, process, period) with "*" for "all"; a month is the exact sum of its
weeks (see facts.py), every team of a total and every process of a total are cells too (the
unknown team and "no process" included), so each total is the sum of a *line* of child cells.

1. Primary: a number resting on fewer than `k` distinct people is hidden.
2. Complementary: if a published total has exactly one hidden child in some line, subtracting
   the published children from it would give the hidden one away; so the smallest published
   child of that line is hidden too (or the total, if there is none). This repeats until no
   line has a lone hidden child, across all three dimensions at once.

Filters can only pick whole cells (a team, a process, a closed week or month), never a person
or an arbitrary date range, so narrowing a query can never make a group smaller than a cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

ALL = "*"
Key = tuple[str, str, str]  # team, process, period ("W2026-11-16" or "M2026-11")


def _parents(key: Key, month_of: Mapping[str, str]) -> list[tuple[Key, int]]:
    """(parent, dimension) pairs of a cell: one per dimension it is not already "all" in."""
    team, process, period = key
    found: list[tuple[Key, int]] = []
    if team != ALL:
        found.append(((ALL, process, period), 0))
    if process != ALL:
        found.append(((team, ALL, period), 1))
    if period.startswith("W"):
        found.append(((team, process, month_of[period]), 2))
    return found


def lines(keys: list[Key], month_of: Mapping[str, str]) -> dict[tuple[Key, int], list[Key]]:
    """Each total (per dimension) with the child cells that add up to it."""
    children: dict[tuple[Key, int], list[Key]] = defaultdict(list)
    for key in keys:
        for parent in _parents(key, month_of):
            children[parent].append(key)
    return children


def suppressed(
    contributors: Mapping[Key, int],
    k: int,
    groups: dict[tuple[Key, int], list[Key]],
    small_cells: set[Key] | frozenset[Key] = frozenset(),
) -> set[Key]:
    """The cells to hide, given how many distinct people each cell's number rests on.

    `small_cells` are hidden whatever this number rests on: cells whose group as a whole is too
    small (even a zero says something about so few people)."""
    hidden = {key for key, people in contributors.items() if 0 < people < k} | set(small_cells)
    changed = True
    while changed:
        changed = False
        for (parent, _), members in sorted(groups.items()):
            if parent in hidden or parent not in contributors:
                continue
            lone = [m for m in members if m in hidden]
            if len(lone) != 1:
                continue
            shown = sorted((contributors[m], m) for m in members if m not in hidden)
            hidden.add(shown[0][1] if shown else parent)
            changed = True
    return hidden
