"""Learning metrics per team, process and period, built per month from learning facts.

A month's cells are rebuilt when it is read after a change (new, voided or erased facts): all
its weeks and the month itself, for every team, process and "all", with the rules of
privacy.py applied per metric (figures.py). Reading is then a plain indexed select.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import Database, unit_of_work
from kit.errors import InvalidParameter
from kit.pseudonyms import pseudonym
from services.analytics.metrics import repository
from services.analytics.metrics.facts import Fact, derive, month_of, weeks_of
from services.analytics.metrics.figures import METRICS, month_cells
from services.analytics.metrics.models import GroupBy, MetricCell, MetricRow, MetricTable
from services.analytics.metrics.privacy import ALL
from services.analytics.metrics.scope import compose, readable_teams
from services.analytics.statements import repository as statements
from services.analytics.statements.formats import readable
from services.analytics.statements.keys import account_key

MAX_WEEKS = 104


async def record_facts(
    session: AsyncSession, stored: list[tuple[dict[str, Any], str]], key: bytes
) -> None:
    """Facts for newly stored statements ((body, actor key) pairs), in the same transaction;
    `key` keys the pseudonyms. A fact without a team (formal learning from an LMS) takes the
    person's last known team; the months concerned are marked for a rebuild."""
    facts = [f for f in (derive(body, actor, key) for body, actor in stored) if f is not None]
    if not facts:
        return
    known = await repository.known_teams(session, {f.person for f in facts})
    changed: dict[str, str] = {}
    for fact in facts:
        if fact.team:
            if known.get(fact.person) != fact.team:
                known[fact.person] = changed[fact.person] = fact.team
        else:
            fact.team = known.get(fact.person, "")
    await repository.add_facts(session, [asdict(fact) for fact in facts], changed)
    await repository.mark_dirty(session, {f.month for f in facts})


async def forget_facts(
    session: AsyncSession, statement_ids: list[Any], person: str | None = None
) -> int:
    """Voided or erased statements (and with `person`, every fact of that pseudonym) stop
    counting; their months are rebuilt on the next read. Returns how many facts went."""
    months, deleted = await repository.delete_facts(session, statement_ids, person)
    await repository.mark_dirty(session, months)
    return deleted


async def rebuild_dirty(database: Database, k: int, months: list[str] | None = None) -> int:
    """Rebuild the months marked dirty (all, or those among `months`), each in a unit of work of
    its own with minimum group `k`; returns how many were marked."""
    async with unit_of_work(database) as session:
        found = await repository.dirty_months(session, months)
    for month in found:
        # One unit of work per month: the month's row stays locked until its rebuild commits,
        # so two processes never rebuild one month at once; a month cleaned meanwhile is
        # skipped, and a failed month leaves the others rebuilt.
        async with unit_of_work(database) as session:
            row = await repository.lock_month(session, month)
            if row is not None and row.dirty:
                facts = await repository.month_facts(session, month)
                await repository.replace_cells(session, month, month_cells(facts, month, k))
    return len(found)


def closed_periods(kind: str, start: date, end: date, today: date) -> list[str]:
    """The whole, finished weeks (`W<monday>`) or months (`M<YYYY-MM>`) from `start` to `end`
    (the current one is never shown: it would change, and show who acted, while people
    watch)."""
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end and monday + timedelta(days=7) <= today:
        weeks.append(monday)
        monday += timedelta(days=7)
    if kind == "week":
        return [f"W{w.isoformat()}" for w in weeks]
    months = sorted({month_of(w) for w in weeks})
    return [f"M{m}" for m in months if weeks_of(m)[-1] + timedelta(days=7) <= today]


def _row(cell: MetricCell, by_team: bool, by_process: bool) -> MetricRow:
    kind, start = cell.period[0], cell.period[1:]
    if kind == "W":
        first = date.fromisoformat(start)
        last = first + timedelta(days=6)
    else:
        weeks = weeks_of(start)
        first, last = weeks[0], weeks[-1] + timedelta(days=6)
    return MetricRow(
        period_start=first,
        period_end=last,
        team=cell.team if by_team or cell.team != ALL else None,
        process=cell.process if by_process or cell.process != ALL else None,
        suppressed=cell.suppressed,
        metrics={m: cell.values.get(m) for m in METRICS},
    )


def _month(period: str) -> str:
    return period[1:] if period[0] == "M" else month_of(date.fromisoformat(period[1:]))


async def table(
    session: AsyncSession,
    database: Database,
    principal: Principal,
    k: int,
    period: Literal["week", "month"],
    group_by: GroupBy,
    start: date | None,
    end: date | None,
    team: str | None,
    process: str | None,
) -> MetricTable:
    """The metrics of the closed periods from `start` (default: 12 weeks or 26 weeks before
    `end`) to `end` (default: today), as `principal` may read them (scope.py), with minimum
    group `k`; changed months are rebuilt first. Raises InvalidParameter (400 `bad_range` when
    `from` is after `to`, `range_too_long` past two years) and Forbidden (403, scope.py)."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end - timedelta(weeks=12 if period == "week" else 26)
    if start > end:
        raise InvalidParameter("from", "`from` is after `to`", code="bad_range")
    if (end - start).days > MAX_WEEKS * 7:
        raise InvalidParameter("from", "at most two years at once", code="range_too_long")
    by_team, by_process = "team" in group_by, "process" in group_by
    teams = readable_teams(principal, team)  # None: the whole organisation
    periods = closed_periods(period, start, end, today)
    # Changed months are rebuilt in units of work of their own: the request's session only
    # reads, and a rebuilt month is worth keeping whatever happens to this request.
    await rebuild_dirty(database, k, sorted({_month(p) for p in periods}))
    if teams is not None and team is None and not by_team:
        # A coach's total: their own teams' cells, added up from what those cells show.
        parts = await repository.cells(session, periods, True, by_process, None, process, teams)
        cells = compose(parts)
    else:
        cells = await repository.cells(session, periods, by_team, by_process, team, process, teams)
    rows = [_row(cell, by_team, by_process) for cell in cells]
    return MetricTable(period=period, group_by=group_by, min_group_size=k, rows=rows)


def _meaning(body: dict[str, Any], me: str, key: bytes) -> Fact | None:
    """What a stored statement counts as, or None, also for a row stored before today's
    rules that no longer reads as a fact (the history shows it without a kind)."""
    try:
        return derive(body, me, key)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def my_learning(
    session: AsyncSession, public_url: str, subject: str, key: bytes, limit: int
) -> dict[str, Any]:
    """The person's own learning history: their newest `limit` live statements (text made
    encodable), each with what it counts as (`kind`, `informal`; None when it counts as
    nothing); `totals` per kind over all their facts, and `informal_share` (0-1, 4 decimals;
    None without facts). The person is the platform account `{public_url}|{subject}`; `key`
    keys pseudonyms."""
    me = account_key(public_url, subject)
    rows = await statements.latest_by(session, me, limit)
    facts = await repository.facts_of(session, pseudonym(key, me))
    totals: dict[str, int] = {}
    for fact in facts:
        totals[fact.kind] = totals.get(fact.kind, 0) + 1
    items = []
    for row in rows:
        body = readable(row.body)
        meaning = _meaning(body, me, key)
        target = _mapping(body.get("object"))
        definition = _mapping(target.get("definition"))
        items.append(
            {
                "id": str(row.id),
                "verb": body.get("verb"),
                "object": target.get("id"),
                "object_type": definition.get("type"),
                "timestamp": body.get("timestamp"),
                "kind": meaning.kind if meaning else None,
                "informal": meaning.informal if meaning else None,
            }
        )
    informal = sum(1 for f in facts if f.informal)
    return {
        "totals": totals,
        "informal_share": round(informal / len(facts), 4) if facts else None,
        "statements": items,
    }
