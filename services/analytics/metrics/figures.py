"""The learning metrics and how one month's cells are computed from its facts (pure): every
week and the month itself, for every team, process and "all", with the rules of privacy.py
applied per metric (docs/privacy.md)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from services.analytics.metrics.facts import weeks_of
from services.analytics.metrics.privacy import ALL, Key, hide, lines

COUNTED = {
    "reflections": "reflection",
    "ideas_submitted": "idea_submitted",
    "ideas_adopted": "idea_adopted",
    "ideas_rejected": "idea_rejected",
    "ideas_implemented": "idea_implemented",
    "ideas_supported": "idea_supported",
    "ideas_commented": "idea_commented",
    "documents_consulted": "document_consulted",
    "formal_completed": "formal_completed",
    "formal_passed": "formal_passed",
}
METRICS = (
    "active_learners",
    *COUNTED,
    "adoption_rate",
    "median_days_to_decision",
    "hours_saved_per_week",
    "work_pressure_change",
    "wellbeing_change",
    "informal_share",
)
# What each derived figure is computed from: it is hidden wherever one of these is hidden in
# the same row, so a shown one never gives a hidden count back (docs/privacy.md, rule 3).
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "adoption_rate": ("ideas_adopted", "ideas_rejected"),
    "median_days_to_decision": ("ideas_adopted", "ideas_rejected"),
    "hours_saved_per_week": ("ideas_implemented",),
    "work_pressure_change": ("ideas_implemented",),
    "wellbeing_change": ("ideas_implemented",),
    "informal_share": tuple(COUNTED),
}
# Figures whose parts (teams, processes, weeks) add up, or nearly (a person counts once in a
# month however many weeks they were active), to the total: these get complementary suppression.
ADDITIVE = frozenset({"active_learners", *COUNTED, "hours_saved_per_week"})


@dataclass
class Tally:
    """What one cell's facts add up to, with the distinct people (pseudonyms) behind each."""

    people: set[str] = field(default_factory=set)
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    decisions: list[float] = field(default_factory=list)
    decided_by: set[str] = field(default_factory=set)
    hours: list[float] = field(default_factory=list)
    pressure: list[float] = field(default_factory=list)
    wellbeing: list[float] = field(default_factory=list)
    impact_by: set[str] = field(default_factory=set)
    informal: int = 0

    def add(self, fact: Any) -> None:
        """Count `fact`: a learning fact or a row with its columns."""
        self.people.add(fact.person)
        self.kinds[fact.kind].add(fact.person)
        self.counts[fact.kind] += 1
        self.informal += fact.informal
        if fact.decision_days is not None:
            self.decisions.append(fact.decision_days)
            self.decided_by.add(fact.person)
        for values, value in (
            (self.hours, fact.hours_saved),
            (self.pressure, fact.work_pressure),
            (self.wellbeing, fact.wellbeing),
        ):
            if value is not None:
                values.append(value)
                self.impact_by.add(fact.person)

    def merge(self, other: Tally) -> None:
        """Fold a finer cell into this one (set unions run in C, unlike adding fact by fact)."""
        self.people |= other.people
        for kind, people in other.kinds.items():
            self.kinds[kind] |= people
        for kind, count in other.counts.items():
            self.counts[kind] += count
        self.decisions += other.decisions
        self.decided_by |= other.decided_by
        self.hours += other.hours
        self.pressure += other.pressure
        self.wellbeing += other.wellbeing
        self.impact_by |= other.impact_by
        self.informal += other.informal

    def values(self) -> dict[str, tuple[float | None, set[str]]]:
        """Each metric's value (counts, a rate and share as 0-1 with 4 decimals, days, hours
        per week) and the distinct people (pseudonyms) it rests on."""
        out: dict[str, tuple[float | None, set[str]]] = {
            "active_learners": (len(self.people), self.people)
        }
        for metric, kind in COUNTED.items():
            out[metric] = (self.counts[kind], self.kinds[kind])
        adopted, rejected = self.counts["idea_adopted"], self.counts["idea_rejected"]
        deciders = self.kinds["idea_adopted"] | self.kinds["idea_rejected"]
        rate = round(adopted / (adopted + rejected), 4) if adopted + rejected else None
        out["adoption_rate"] = (rate, deciders)
        median = round(statistics.median(self.decisions), 2) if self.decisions else None
        out["median_days_to_decision"] = (median, self.decided_by)
        impact = self.impact_by
        out["hours_saved_per_week"] = (round(sum(self.hours), 2) if self.hours else None, impact)
        for metric, values in (
            ("work_pressure_change", self.pressure),
            ("wellbeing_change", self.wellbeing),
        ):
            out[metric] = (round(statistics.fmean(values), 2) if values else None, impact)
        total = sum(self.counts.values())
        share = round(self.informal / total, 4) if total else None
        out["informal_share"] = (share, self.people)
        return out


def month_cells(facts: Iterable[Any], month: str, k: int) -> list[dict[str, Any]]:
    """The `metric_cells` rows of `month` (YYYY-MM) from its facts (rows with the columns of
    `learning_facts`), sorted by key, with every figure resting on fewer than `k` people, or
    giving such a figure away, set to None (privacy.py rules 1-3)."""
    # Tally each (team, process, week) once, then fold those into the totals: every total is a
    # union of finest cells, which is far cheaper than adding each fact to eight cells.
    finest: dict[Key, Tally] = defaultdict(Tally)
    for fact in facts:
        finest[(fact.team, fact.process, f"W{fact.week}")].add(fact)
    tallies: dict[Key, Tally] = defaultdict(Tally)
    for (team, process, week), tally in finest.items():
        for t in (team, ALL):
            for p in (process, ALL):
                for period in (week, f"M{month}"):
                    tallies[(t, p, period)].merge(tally)
    month_of = {f"W{week.isoformat()}": f"M{month}" for week in weeks_of(month)}
    keys = sorted(tallies)
    groups = lines(keys, month_of)
    values = {key: tally.values() for key, tally in tallies.items()}
    small = {key for key in keys if len(tallies[key].people) < k}
    people = {metric: {key: values[key][metric][1] for key in keys} for metric in METRICS}
    hidden_by_metric = hide(people, k, groups, small, DERIVED_FROM, ADDITIVE)
    cells = []
    for key in keys:
        team, process, period = key
        shown = {
            metric: None if key in hidden_by_metric[metric] else values[key][metric][0]
            for metric in METRICS
        }
        cells.append(
            {
                "period": period,
                "team": team,
                "process": process,
                "month": month,
                "people": len(tallies[key].people),
                "suppressed": all(value is None for value in shown.values()),
                "values": shown,
            }
        )
    return cells
