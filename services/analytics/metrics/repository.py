"""Every query of the learning metrics: learning facts, each person's last team, the months to
rebuild and the stored cells. Functions flush at most; the caller's session owns the
transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_ignoring_duplicates, upsert
from services.analytics.metrics.models import LearningFact, MetricCell, MetricMonth, PersonTeam
from services.analytics.metrics.privacy import ALL

FACT_COLUMNS = [
    col(getattr(LearningFact, name))
    for name in (
        "person", "team", "process", "week", "kind", "informal",
        "decision_days", "hours_saved", "work_pressure", "wellbeing",
    )
]  # fmt: skip


async def month_facts(session: AsyncSession, month: str) -> list[Any]:
    """The facts of `month` as plain rows with the columns of FACT_COLUMNS as attributes
    (cheaper than ORM objects for a whole month)."""
    connection = await session.connection()
    rows = await connection.execute(
        sa_select(*FACT_COLUMNS).where(col(LearningFact.month) == month)
    )
    return list(rows.all())


async def replace_cells(session: AsyncSession, month: str, cells: list[dict[str, Any]]) -> None:
    """Replace the stored cells of `month` by `cells` (rows of `metric_cells`) and mark the
    month clean."""
    await session.exec(delete(MetricCell).where(col(MetricCell.month) == month))
    if cells:
        connection = await session.connection()
        await connection.execute(insert(MetricCell), cells)
    await session.exec(
        update(MetricMonth).where(col(MetricMonth.month) == month).values(dirty=False)
    )


async def mark_dirty(session: AsyncSession, months: Iterable[str]) -> None:
    """Mark `months` (YYYY-MM) for a rebuild, in sorted order (so concurrent writers lock rows
    in one order on PostgreSQL and wait instead of deadlocking)."""
    for month in sorted(months):
        inserted = await session.exec(
            insert_ignoring_duplicates(session, MetricMonth).values(month=month, dirty=True)
        )
        if not inserted.rowcount:
            await session.exec(
                update(MetricMonth).where(col(MetricMonth.month) == month).values(dirty=True)
            )


async def dirty_months(session: AsyncSession, months: list[str] | None = None) -> list[str]:
    """The months marked for a rebuild: all of them, or those among `months`."""
    query = select(MetricMonth.month).where(col(MetricMonth.dirty).is_(True))
    if months is not None:
        query = query.where(col(MetricMonth.month).in_(months))
    return list((await session.exec(query)).all())


async def lock_month(session: AsyncSession, month: str) -> MetricMonth | None:
    """The month's row, locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite
    serialises writers anyway), or None."""
    return await session.get(MetricMonth, month, with_for_update=True)


def _dimension(query: Any, column: Any, value: str | None, split: bool) -> Any:
    """`query` limited to one `value` of a dimension, to its parts (`split`), or its total."""
    if value is not None:
        return query.where(column == value)
    return query.where(column != ALL) if split else query.where(column == ALL)


async def cells(
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
    are selected, never a total over other teams (scope.py composes a coach's total)."""
    query = select(MetricCell).where(col(MetricCell.period).in_(periods))
    if teams is not None:
        query = query.where(col(MetricCell.team).in_(sorted(teams - {ALL})))
    query = _dimension(query, col(MetricCell.team), team, by_team)
    query = _dimension(query, col(MetricCell.process), process, by_process)
    query = query.order_by(col(MetricCell.period), col(MetricCell.team), col(MetricCell.process))
    return list((await session.exec(query)).all())


async def known_teams(session: AsyncSession, people: Collection[str]) -> dict[str, str]:
    """The last known team of each of `people` (pseudonyms) that has one."""
    query = select(PersonTeam).where(col(PersonTeam.person).in_(people))
    return {row.person: row.team for row in (await session.exec(query)).all()}


async def add_facts(
    session: AsyncSession, facts: list[dict[str, Any]], teams: dict[str, str]
) -> None:
    """Insert fact rows in one multi-row INSERT and record `teams` (person → last team), people
    in sorted order (so concurrent batches on PostgreSQL wait instead of deadlocking)."""
    connection = await session.connection()
    await connection.execute(insert(LearningFact), facts)
    for person in sorted(teams):
        await session.exec(
            upsert(session, PersonTeam, ["person"], {"person": person, "team": teams[person]})
        )


async def delete_facts(
    session: AsyncSession, statement_ids: list[Any], person: str | None = None
) -> tuple[set[str], int]:
    """Delete the facts of `statement_ids`, and with `person` every fact of that pseudonym;
    returns the months they were in and how many were deleted."""
    which: Any = col(LearningFact.statement_id).in_(statement_ids)
    if person is not None:
        which = or_(col(LearningFact.person) == person, which)
    months = set((await session.exec(select(LearningFact.month).where(which))).all())
    if not months:
        return months, 0
    deleted = await session.exec(delete(LearningFact).where(which))
    return months, deleted.rowcount


async def facts_of(session: AsyncSession, person: str) -> list[LearningFact]:
    """Every learning fact of one pseudonymous person."""
    query = select(LearningFact).where(LearningFact.person == person)
    return list((await session.exec(query)).all())


async def forget_team(session: AsyncSession, person: str) -> None:
    """Forget the last known team of one pseudonymous person."""
    await session.exec(delete(PersonTeam).where(col(PersonTeam.person) == person))
