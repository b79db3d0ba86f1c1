"""Small-group suppression, including suppression against differencing.

Cells are keyed (team, process, period) with "*" for "all"; a month is the exact sum of its
weeks (see facts.py), every team of a total and every process of a total are cells too (the
unknown team and "no process" included), so each total is the sum of a *line* of child cells.

1. Primary: a number resting on fewer than `k` distinct people is hidden.
2. Complementary: if a published total has exactly one hidden child in some line, subtracting
   the published children from it would give the hidden one away; so the smallest published
   child of that line is hidden too (or the total, if there is none). The same holds when the
   hidden children together rest on fewer than `k` people: their sum, which subtraction gives,
   would be a number about too few people. This repeats until every line with a published
   total has no hidden child, or at least two resting together on `k` or more people, across
   all three dimensions at once. Likewise a hidden total whose parts are all shown would be
   their sum, so one part (the smallest) is hidden with it. (A published total of 0 says 0 for
   every part: that says nothing about anyone that it does not say about the whole group.)
3. Derived figures (shares, rates, medians, means, the impact sum): hidden wherever any figure
   they are computed from is hidden in the same row, so every published derived figure is a
   function of published figures only and cannot be solved for a hidden one.

Filters can only pick whole cells (a team, a process, a closed week or month), never a person
or an arbitrary date range, so narrowing a query can never make a group smaller than a cell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Set

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
    people: Mapping[Key, Set[str]],
    k: int,
    groups: dict[tuple[Key, int], list[Key]],
    small_cells: Set[Key] = frozenset(),
) -> set[Key]:
    """The cells to hide, given the distinct people (pseudonyms) each cell's number rests on.

    `small_cells` are hidden whatever the number rests on: cells whose group as a whole is too
    small (even a zero says something about so few people), or whose number is derived from a
    hidden one (rule 3). Returns a new set; the inputs are not changed."""
    hidden = {key for key, who in people.items() if 0 < len(who) < k} | set(small_cells)
    changed = True
    while changed:
        changed = False
        for (parent, _), members in sorted(groups.items()):
            if not people.get(parent):
                continue  # a total of 0 says 0 for every part; nothing to protect
            lone = [m for m in members if m in hidden]
            if parent in hidden:
                # Its parts would add up to it: one of them must be hidden as well.
                protected = bool(lone)
            else:
                union = set().union(*(people[m] for m in lone)) if lone else set()
                protected = not lone or (len(lone) > 1 and len(union) >= k)
            if protected:
                continue
            # The smallest shown part that adds people (a shown 0 would protect nothing).
            shown = sorted((len(people[m]), m) for m in members if m not in hidden and people[m])
            if shown:
                hidden.add(shown[0][1])
            elif parent not in hidden:
                hidden.add(parent)
            else:
                continue  # a hidden total of shown zeros only: it is 0 and has no people
            changed = True
    return hidden


def hide(
    people: Mapping[str, Mapping[Key, Set[str]]],
    k: int,
    groups: dict[tuple[Key, int], list[Key]],
    small_cells: Set[Key],
    derived_from: Mapping[str, tuple[str, ...]],
    additive: Set[str],
) -> dict[str, set[Key]]:
    """The cells to hide per metric (rules 1-3), given the people each metric rests on per cell.

    `derived_from` names the figures each derived metric is computed from (they are decided
    first); `additive` the metrics whose parts add up to their totals, which get complementary
    suppression (rule 2). A non-additive figure (a share, a median) cannot be differenced, so
    it is hidden only by rules 1 and 3. Metrics resting on the same people with the same
    forced cells share one pattern (often: every metric that is zero everywhere)."""
    patterns: dict[tuple[object, ...], set[Key]] = {}
    hidden: dict[str, set[Key]] = {}
    keys = sorted(small_cells | {key for cells in people.values() for key in cells})
    for metric in sorted(people, key=lambda m: m in derived_from):
        forced = set(small_cells)
        for source in derived_from.get(metric, ()):
            forced |= hidden[source]
        who = people[metric]
        signature = (metric in additive, frozenset(forced), *(frozenset(who[key]) for key in keys))
        if signature not in patterns:
            if metric in additive:
                patterns[signature] = suppressed(who, k, groups, forced)
            else:
                patterns[signature] = {key for key in keys if 0 < len(who[key]) < k} | forced
        hidden[metric] = patterns[signature]
    return hidden
