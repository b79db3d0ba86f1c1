"""An attacker for the metrics tables: from every published figure, try to recover hidden counts.

It knows what an outsider knows: which cells add up to which (teams to the whole, processes to a
team, weeks to a month, a coach's teams to the coach's total), that counts are whole numbers
that are never negative, and how the derived figures are computed (informal share, adoption
rate). It repeats three moves until nothing new is learned:

1. a total minus its shown parts gives a lone hidden part (or all hidden parts, when the rest is 0);
2. shown parts add up to a hidden total;
3. a row's shown derived figures are solved for the row's hidden counts (every whole-number
   candidate is tried, so rounding does not protect anything).

A count learned only because a *shown total is 0* (by 1., or by adding such zeros up by 2.)
is not a disclosure: "nobody in the group did it" holds for every part of the group
(docs/privacy.md says so); such zeros are used, but not reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import product
from typing import Any

Key = tuple[Any, str, str]  # team (or a coach's team set), process, period ("w…"/"m…")
COUNTS = (
    "reflections",
    "ideas_submitted",
    "ideas_adopted",
    "ideas_rejected",
    "ideas_implemented",
    "ideas_supported",
    "ideas_commented",
    "documents_consulted",
    "formal_completed",
    "formal_passed",
)
FORMAL = ("formal_completed", "formal_passed")
INFORMAL = tuple(c for c in COUNTS if c not in FORMAL)
CANDIDATES = range(0, 200)


def _share(v: dict[str, float]) -> float | None:
    total = sum(v[c] for c in COUNTS)
    return round(sum(v[c] for c in INFORMAL) / total, 4) if total else None


def _rate(v: dict[str, float]) -> float | None:
    decided = v["ideas_adopted"] + v["ideas_rejected"]
    return round(v["ideas_adopted"] / decided, 4) if decided else None


DERIVED = {
    "informal_share": (_share, COUNTS),
    "adoption_rate": (_rate, ("ideas_adopted", "ideas_rejected")),
}


def lines(cells: Iterable[Key], months: dict[str, str]) -> list[tuple[Key, list[Key]]]:
    """Each total with the cells that add up to it, one line per dimension (teams, processes,
    weeks); only cells present in `cells`, an absent cell being 0."""
    present = set(cells)
    found: dict[tuple[Key, int], list[Key]] = {}
    for key in present:
        team, process, period = key
        parents: list[tuple[Key, int]] = []
        if isinstance(team, str) and team != "*":
            parents.append((("*", process, period), 0))
        if process != "*":
            parents.append(((team, "*", period), 1))
        if period.startswith("w") and period in months:
            parents.append(((team, process, months[period]), 2))
        for parent in parents:
            found.setdefault(parent, []).append(key)
    return [(parent, parts) for (parent, _), parts in found.items() if parent in present]


def recover(
    rows: dict[Key, dict[str, Any]],
    extra_lines: list[tuple[Key, list[Key]]],
    months: dict[str, str],
) -> list[tuple[Key, str, float]]:
    """The hidden counts (cell, metric, value) the published `rows` give away."""
    known: dict[tuple[Key, str], float] = {}
    hidden: set[tuple[Key, str]] = set()
    for key, metrics in rows.items():
        for metric in COUNTS:
            if metrics.get(metric) is None:
                hidden.add((key, metric))
            else:
                known[(key, metric)] = metrics[metric]
    all_lines = lines(rows, months) + extra_lines
    # First what zero totals say of every part (harmless), then everything an attacker can do.
    _infer(rows, all_lines, known, zeros_only=True)
    harmless = {cell for cell in hidden if cell in known}
    _infer(rows, all_lines, known, zeros_only=False)
    return sorted(
        (
            (key, metric, known[(key, metric)])
            for key, metric in hidden
            if (key, metric) in known and (key, metric) not in harmless
        ),
        key=repr,
    )


def _infer(
    rows: dict[Key, dict[str, Any]],
    all_lines: list[tuple[Key, list[Key]]],
    known: dict[tuple[Key, str], float],
    zeros_only: bool,
) -> None:
    tried: dict[Key, frozenset[str]] = {}
    changed = True
    while changed:
        changed = False
        for parent, parts in all_lines:
            for metric in COUNTS:
                unknown = [p for p in parts if (p, metric) not in known]
                if (parent, metric) in known:
                    total = known[(parent, metric)]
                    if zeros_only and total != 0:
                        continue
                    rest = total - sum(known[(p, metric)] for p in parts if (p, metric) in known)
                    if len(unknown) == 1 or (unknown and rest == 0):
                        for part in unknown:
                            known[(part, metric)] = rest if len(unknown) == 1 else 0
                        changed = True
                elif not unknown:
                    total = sum(known[(p, metric)] for p in parts)
                    if not zeros_only or total == 0:
                        known[(parent, metric)] = total
                        changed = True
        if zeros_only:
            continue
        for key, metrics in rows.items():
            seen = frozenset(m for m in COUNTS if (key, m) in known)
            if tried.get(key) != seen:  # solve a row again only once more of it is known
                tried[key] = seen
                changed |= _solve_row(key, metrics, known)


def _solve_row(key: Key, metrics: dict[str, Any], known: dict[tuple[Key, str], float]) -> bool:
    shown = {name: metrics[name] for name in DERIVED if metrics.get(name) is not None}
    inputs = {c for name in shown for c in DERIVED[name][1]}
    unknown = sorted(c for c in inputs if (key, c) not in known)
    if not unknown or len(unknown) > 2:
        return False
    base = {c: known.get((key, c), 0.0) for c in COUNTS}
    solutions = []
    for guess in product(CANDIDATES, repeat=len(unknown)):
        values = {**base, **dict(zip(unknown, guess, strict=True))}
        if all(
            (got := DERIVED[name][0](values)) is not None and abs(got - value) < 1e-9
            for name, value in shown.items()
        ):
            solutions.append(guess)
    learned = False
    for i, metric in enumerate(unknown):
        if solutions and len({s[i] for s in solutions}) == 1:
            known[(key, metric)] = solutions[0][i]
            learned = True
    return learned
