"""REST routes for learning metrics (analysts, admins, coaches for their own teams) and a
worker's own learning history."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from kit.auth import Principal, PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from kit.errors import InvalidParameter
from services.analytics import personal
from services.analytics.facts import month_of, weeks_of
from services.analytics.metrics import (
    METRICS,
    closed_periods,
    read_cells,
    rebuild_dirty,
)
from services.analytics.metrics_scope import compose, readable_teams
from services.analytics.models import MetricCell
from services.analytics.privacy import ALL

metrics = APIRouter(prefix="/v1", tags=["metrics"])
READERS = require_roles(Role.analyst, Role.admin, Role.coach)
MAX_WEEKS = 104
GroupBy = Literal["none", "team", "process", "team,process"]


class MetricRow(BaseModel):
    period_start: date
    period_end: date = Field(description="The last day of the period (a Sunday).")
    team: str | None = Field(
        description='Null: all teams (for a coach: all of their own teams). "" is people with '
        "no known team."
    )
    process: str | None = Field(description='Null: all processes. "" is "no process named".')
    suppressed: bool = Field(description="Too few people: every number of the row is hidden.")
    metrics: dict[str, float | int | None] = Field(
        description="Null where the number rests on too few people, could be derived by "
        "differencing, or is computed from a hidden number (docs/privacy.md)."
    )


class MetricTable(BaseModel):
    period: Literal["week", "month"]
    group_by: GroupBy
    min_group_size: int
    rows: list[MetricRow]


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


async def _table(
    request: Request,
    session: Any,
    principal: Principal,
    period: Literal["week", "month"],
    group_by: GroupBy,
    start: date | None,
    end: date | None,
    team: str | None,
    process: str | None,
) -> MetricTable:
    today = datetime.now(UTC).date()
    end = end or today
    start = start or end - timedelta(weeks=12 if period == "week" else 26)
    if start > end:
        raise InvalidParameter("from", "`from` is after `to`", code="bad_range")
    if (end - start).days > MAX_WEEKS * 7:
        raise InvalidParameter("from", "at most two years at once", code="range_too_long")
    by_team, by_process = "team" in group_by, "process" in group_by
    teams = readable_teams(principal, team)  # None: the whole organisation
    k: int = request.app.state.settings.min_group_size
    periods = closed_periods(period, start, end, today)
    months = sorted({p[1:] if p[0] == "M" else _month(p) for p in periods})
    await rebuild_dirty(request.app.state.database, k, months)
    if teams is not None and team is None and not by_team:
        # A coach's total: their own teams' cells, added up from what those cells show.
        parts = await read_cells(session, periods, True, by_process, None, process, teams)
        cells = compose(parts)
    else:
        cells = await read_cells(session, periods, by_team, by_process, team, process, teams)
    return MetricTable(
        period=period,
        group_by=group_by,
        min_group_size=k,
        rows=[_row(cell, by_team, by_process) for cell in cells],
    )


def _month(week_period: str) -> str:
    return month_of(date.fromisoformat(week_period[1:]))


Period = Annotated[Literal["week", "month"], Query()]
# Learning records have no business before 2000 or after 2999; the bounds also keep the date
# arithmetic of periods (weeks before `from`, the Sunday after `to`) inside Python's date range.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
From = Annotated[date | None, Query(alias="from", ge=EARLIEST, le=LATEST)]
To = Annotated[date | None, Query(alias="to", ge=EARLIEST, le=LATEST)]
Team = Annotated[str | None, Query(max_length=64)]
Process = Annotated[str | None, Query(max_length=100)]


@metrics.get(
    "/metrics",
    response_model=MetricTable,
    dependencies=[READERS],
    summary="Learning metrics per closed week or month, by team and/or process",
)
async def get_metrics(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    period: Period = "week",
    group_by: GroupBy = "none",
    start: From = None,
    end: To = None,
    team: Team = None,
    process: Process = None,
) -> MetricTable:
    return await _table(request, session, principal, period, group_by, start, end, team, process)


@metrics.get(
    "/metrics.csv",
    dependencies=[READERS],
    summary="The same table as CSV, for spreadsheets",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_metrics_csv(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    period: Period = "week",
    group_by: GroupBy = "none",
    start: From = None,
    end: To = None,
    team: Team = None,
    process: Process = None,
) -> Response:
    table = await _table(request, session, principal, period, group_by, start, end, team, process)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["period_start", "period_end", "team", "process", "suppressed", *METRICS])
    for row in table.rows:
        writer.writerow(
            [
                row.period_start,
                row.period_end,
                "all" if row.team is None else row.team,
                "all" if row.process is None else row.process,
                str(row.suppressed).lower(),
                *("" if row.metrics[m] is None else row.metrics[m] for m in METRICS),
            ]
        )
    name = f"werkvloer-metrics-{period}-{table.rows[0].period_start if table.rows else 'empty'}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@metrics.get("/my-learning", summary="Your own learning history (formal and informal)")
async def my_learning(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    state = request.app.state
    public_url = state.settings.platform.public_url
    return await personal.history(session, principal, public_url, state.pseudonym_key, limit)


@metrics.get("/my-data", summary="Everything the analytics service holds about you (GDPR)")
async def export_my_data(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    after: Annotated[str | None, Query(max_length=200, description="from a `more` link")] = None,
) -> dict[str, Any]:
    """Your statements oldest first, at most ANALYTICS_MAX_EXPORT_KB per answer; `more` links
    to the next part ("" when complete)."""
    settings = request.app.state.settings
    budget = int(settings.max_export_kb) * 1024
    return await personal.export(
        session, settings.platform.public_url, principal.subject, budget, after
    )


@metrics.delete("/my-data", summary="Erase your data here (GDPR); safe to repeat")
async def erase_my_data(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, int]:
    state = request.app.state
    public_url = state.settings.platform.public_url
    return await personal.erase(session, public_url, principal.subject, state.pseudonym_key)
