"""Learning metrics per team, process and period, built per month from learning facts.

A month's cells are rebuilt when it is read after a change (new, voided or erased facts): all
its weeks and the month itself, for every team, process and "all", with the rules of
privacy.py applied per metric. Reading is then a plain indexed select.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import Database, insert_ignoring_duplicates, upsert
from services.analytics.facts import derive, month_of, weeks_of
from services.analytics.models import LearningFact, MetricCell, MetricMonth, PersonTeam
from services.analytics.privacy import ALL, Key, hide, lines

log = logging.getLogger(__name__)
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
        """`fact`: a learning fact or a row with its columns."""
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
        """Each metric's value and the distinct people (pseudonyms) it rests on."""
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


FACT_COLUMNS = [
    col(getattr(LearningFact, name))
    for name in (
        "person", "team", "process", "week", "kind", "informal",
        "decision_days", "hours_saved", "work_pressure", "wellbeing",
    )
]  # fmt: skip


async def rebuild_month(session: AsyncSession, month: str, k: int) -> None:
    connection = await session.connection()
    rows = await connection.execute(
        sa_select(*FACT_COLUMNS).where(col(LearningFact.month) == month)
    )
    # Tally each (team, process, week) once, then fold those into the totals: every total is a
    # union of finest cells, which is far cheaper than adding each fact to eight cells.
    finest: dict[Key, Tally] = defaultdict(Tally)
    facts: list[Any] = list(rows.all())  # rows with the columns' names as attributes
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
    await session.exec(delete(MetricCell).where(col(MetricCell.month) == month))
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
    if cells:
        await connection.execute(insert(MetricCell), cells)
    await session.exec(
        update(MetricMonth).where(col(MetricMonth.month) == month).values(dirty=False)
    )


async def mark_dirty(session: AsyncSession, months: set[str]) -> None:
    for month in sorted(months):
        inserted = await session.exec(
            insert_ignoring_duplicates(session, MetricMonth).values(month=month, dirty=True)
        )
        if not inserted.rowcount:
            await session.exec(
                update(MetricMonth).where(col(MetricMonth.month) == month).values(dirty=True)
            )


def closed_periods(kind: str, start: date, end: date, today: date) -> list[str]:
    """The whole, finished weeks or months from `start` to `end` (the current one is never
    shown: it would change, and show who acted, while people watch)."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end and monday + timedelta(days=7) <= today:
        weeks.append(monday)
        monday += timedelta(days=7)
    if kind == "week":
        return [f"W{w.isoformat()}" for w in weeks]
    months = sorted({month_of(w) for w in weeks})
    return [f"M{m}" for m in months if weeks_of(m)[-1] + timedelta(days=7) <= today]


async def read_cells(
    session: AsyncSession,
    periods: list[str],
    by_team: bool,
    by_process: bool,
    team: str | None,
    process: str | None,
    teams: frozenset[str] | None = None,
) -> list[MetricCell]:
    """The stored cells of `periods`, per team and/or process or their totals, in period order.

    `teams` is the reader's scope (None: the whole organisation): only those teams' own cells
    are selected, never a total over other teams (metrics_scope.py composes a coach's total)."""
    query = select(MetricCell).where(col(MetricCell.period).in_(periods))
    if teams is not None:
        query = query.where(col(MetricCell.team).in_(sorted(teams - {ALL})))
    if team is not None:
        query = query.where(MetricCell.team == team)
    elif not by_team:
        query = query.where(MetricCell.team == ALL)
    else:
        query = query.where(MetricCell.team != ALL)
    if process is not None:
        query = query.where(MetricCell.process == process)
    elif not by_process:
        query = query.where(MetricCell.process == ALL)
    else:
        query = query.where(MetricCell.process != ALL)
    query = query.order_by(col(MetricCell.period), col(MetricCell.team), col(MetricCell.process))
    return list((await session.exec(query)).all())


async def record_facts(
    session: AsyncSession, stored: list[tuple[dict[str, object], str]], key: bytes
) -> None:
    """Facts for newly stored statements ((body, actor key) pairs), in the same transaction."""
    facts = [f for f in (derive(body, actor, key) for body, actor in stored) if f is not None]
    if not facts:
        return
    people = {f.person for f in facts}
    known = {
        row.person: row.team
        for row in (
            await session.exec(select(PersonTeam).where(col(PersonTeam.person).in_(people)))
        ).all()
    }
    changed: dict[str, str] = {}
    for fact in facts:
        if fact.team:
            if known.get(fact.person) != fact.team:
                known[fact.person] = changed[fact.person] = fact.team
        else:  # formal learning from an LMS names no team: use the person's last known one
            fact.team = known.get(fact.person, "")
    connection = await session.connection()
    await connection.execute(insert(LearningFact), [asdict(fact) for fact in facts])
    # Rows are locked in one order (people by key, then months): concurrent batches on
    # PostgreSQL wait for each other instead of deadlocking.
    for person in sorted(changed):
        await session.exec(
            upsert(session, PersonTeam, ["person"], {"person": person, "team": changed[person]})
        )
    await mark_dirty(session, {f.month for f in facts})


async def forget_facts(session: AsyncSession, statement_ids: list[object]) -> None:
    """Voided or erased statements stop counting; their months are rebuilt on the next read."""
    months = (
        await session.exec(
            select(LearningFact.month).where(col(LearningFact.statement_id).in_(statement_ids))
        )
    ).all()
    if not months:
        return
    await session.exec(
        delete(LearningFact).where(col(LearningFact.statement_id).in_(statement_ids))
    )
    await mark_dirty(session, set(months))


async def rebuild_dirty(database: Database, k: int, months: list[str] | None = None) -> int:
    """Rebuild the dirty months (all, or those given); returns how many were rebuilt."""
    async with database.sessions() as session:
        query = select(MetricMonth.month).where(col(MetricMonth.dirty).is_(True))
        if months is not None:
            query = query.where(col(MetricMonth.month).in_(months))
        found = list((await session.exec(query)).all())
        await session.commit()
    for month in found:
        async with database.sessions() as session:
            # Locks the month's row on PostgreSQL (SQLite serialises writers anyway), so two
            # processes never rebuild one month at once; a month cleaned meanwhile is skipped.
            row = await session.get(MetricMonth, month, with_for_update=True)
            if row is not None and row.dirty:
                await rebuild_month(session, month, k)
            await session.commit()
    return len(found)


@asynccontextmanager
async def refresher_running(app: FastAPI) -> AsyncIterator[None]:
    """Rebuilds changed months in the background, so reads rarely wait for a rebuild."""
    settings = app.state.settings

    async def loop() -> None:
        while True:
            try:
                await rebuild_dirty(app.state.database, settings.min_group_size)
            except Exception:
                log.exception("metrics refresh failed")
            await asyncio.sleep(settings.metrics_refresh_seconds)

    task = (
        asyncio.create_task(loop(), name="metrics-refresher")
        if settings.metrics_refresh_seconds > 0
        else None
    )
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
