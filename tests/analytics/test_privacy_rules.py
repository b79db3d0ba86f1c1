"""Small-group suppression without HTTP (services/analytics/metrics/privacy.py and figures.py,
docs/privacy.md): a number resting on fewer people than the configured minimum is hidden, and
complementary suppression leaves no hidden cell that subtraction from a total would give away."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Set
from typing import Any

import pytest

from services.analytics.metrics.facts import Fact
from services.analytics.metrics.figures import METRICS, month_cells
from services.analytics.metrics.privacy import ALL, Key, hide, lines, suppressed

MONTH = "M2026-10"
TOTAL: Key = (ALL, ALL, MONTH)


def team(name: str) -> Key:
    return (name, ALL, MONTH)


def people(count: int, prefix: str) -> set[str]:
    return {f"{prefix}{i}" for i in range(count)}


def one_line(sizes: Mapping[str, int]) -> tuple[dict[Key, Set[str]], dict[Any, list[Key]]]:
    """Teams of the given sizes under one month total; each team's people are its own."""
    cells: dict[Key, Set[str]] = {team(name): people(size, name) for name, size in sizes.items()}
    cells[TOTAL] = set().union(*cells.values())
    return cells, lines(sorted(k for k in cells if k != TOTAL), {})


@pytest.mark.parametrize("k", [3, 5, 7])
def test_a_number_is_hidden_below_the_configured_minimum_and_shown_at_it(k: int) -> None:
    cells = {team("few"): people(k - 1, "f"), team("enough"): people(k, "e")}
    assert suppressed(cells, k, {}) == {team("few")}


def test_a_single_hidden_part_takes_the_smallest_shown_part_with_it() -> None:
    cells, groups = one_line({"few": 4, "mid": 5, "big": 8})
    hidden = suppressed(cells, 5, groups)
    # total - mid - big would give "few" back; with "mid" hidden too, it gives only their sum,
    # which rests on 9 people.
    assert hidden == {team("few"), team("mid")}


def test_hidden_parts_resting_together_on_too_few_people_take_another_part_with_them() -> None:
    cells, groups = one_line({"a": 2, "b": 2, "mid": 6, "big": 7})
    hidden = suppressed(cells, 5, groups)
    # a + b (4 people) would follow from the total minus the shown teams: "mid" goes too.
    assert hidden == {team("a"), team("b"), team("mid")}


def test_a_hidden_total_hides_one_of_its_parts_too() -> None:
    cells, groups = one_line({"left": 5, "right": 6})
    hidden = suppressed(cells, 5, groups, small_cells={TOTAL})
    assert hidden == {TOTAL, team("left")}, "left + right would give the total back"


def test_a_total_of_zero_protects_nothing() -> None:
    cells: dict[Key, Set[str]] = {TOTAL: set(), team("a"): set(), team("b"): set()}
    assert suppressed(cells, 5, lines([team("a"), team("b")], {})) == set()


def test_suppression_does_not_change_its_inputs() -> None:
    cells, groups = one_line({"few": 4, "mid": 5})
    before = {key: set(who) for key, who in cells.items()}
    forced = frozenset({TOTAL})
    suppressed(cells, 5, groups, forced)
    assert cells == before and forced == {TOTAL}


def test_a_derived_figure_is_hidden_wherever_a_figure_it_comes_from_is() -> None:
    cells, groups = one_line({"few": 4, "mid": 5, "big": 8})
    counts = {key: who for key, who in cells.items()}
    hidden = hide(
        {"count": counts, "rate": counts},
        5,
        groups,
        small_cells=frozenset(),
        derived_from={"rate": ("count",)},
        additive={"count"},
    )
    assert hidden["count"] == {team("few"), team("mid")}
    assert hidden["rate"] >= hidden["count"]


def fact(person: str, team_name: str, process: str, week: str, kind: str) -> Fact:
    return Fact(
        statement_id=uuid.uuid4(),
        person=person,
        team=team_name,
        process=process,
        week=week,
        month="2026-10",
        kind=kind,
        informal=kind != "formal_completed",
    )


@pytest.mark.parametrize("k", [3, 5])
def test_no_hidden_cell_of_a_month_follows_from_its_totals_in_any_dimension(k: int) -> None:
    """Teams within totals, processes within teams, weeks within the month: in every line whose
    total is shown and not 0, zero or at least two parts are hidden, for every metric."""
    facts = [fact(f"big{i}", "big", "storing", "2026-10-05", "reflection") for i in range(6)]
    facts += [fact(f"big{i}", "big", "onboarding", "2026-10-12", "reflection") for i in range(2)]
    facts += [fact(f"mid{i}", "mid", "storing", "2026-10-05", "reflection") for i in range(5)]
    facts += [
        fact(f"small{i}", "small", "storing", "2026-10-12", "reflection") for i in range(k - 1)
    ]
    facts += [fact("mid0", "mid", "storing", "2026-10-19", "formal_completed")]
    cells = {(c["team"], c["process"], c["period"]): c for c in month_cells(facts, "2026-10", k)}
    weeks = {key[2]: MONTH for key in cells if key[2].startswith("W")}
    small = [c for key, c in cells.items() if key[0] == "small"]
    assert small and all(c["suppressed"] for c in small), "a team below the minimum shows nothing"
    checked = 0
    for (parent, _), parts in lines(sorted(cells), weeks).items():
        for metric in METRICS:
            if parent not in cells or not cells[parent]["values"][metric]:
                continue  # hidden, or 0: a total of 0 says 0 for every part
            hidden = [p for p in parts if cells[p]["values"][metric] is None]
            assert len(hidden) != 1, (parent, metric, hidden)
            checked += 1
    assert checked > 20
