"""REST routes for learning metrics (analysts, admins, coaches for their own teams), and a
person's own learning history, export and erasure (`/v1/my-learning`, `/v1/my-data`): parse,
call the service, present."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from services.analytics import gdpr
from services.analytics.metrics import service
from services.analytics.metrics.figures import METRICS
from services.analytics.metrics.models import GroupBy, MetricTable

metrics = APIRouter(prefix="/v1", tags=["metrics"])
READERS = require_roles(Role.analyst, Role.admin, Role.coach)

Period = Annotated[Literal["week", "month"], Query()]
# Learning records have no business before 2000 or after 2999; the bounds also keep the date
# arithmetic of periods (weeks before `from`, the Sunday after `to`) inside Python's date range.
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
From = Annotated[date | None, Query(alias="from", ge=EARLIEST, le=LATEST)]
To = Annotated[date | None, Query(alias="to", ge=EARLIEST, le=LATEST)]
Team = Annotated[str | None, Query(max_length=64)]
Process = Annotated[str | None, Query(max_length=100)]


async def _table(
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
    """The table both routes present, from the same query parameters (service.table)."""
    state = request.app.state
    k: int = state.settings.min_group_size
    return await service.table(
        session, state.database, principal, k, period, group_by, start, end, team, process
    )


TableDep = Annotated[MetricTable, Depends(_table)]


@metrics.get(
    "/metrics",
    response_model=MetricTable,
    dependencies=[READERS],
    summary="Learning metrics per closed week or month, by team and/or process",
)
async def get_metrics(table: TableDep) -> MetricTable:
    """The metrics of closed weeks or months as your role may read them; hidden figures are
    null (docs/privacy.md). Raises 400 `bad_range` / `range_too_long` / `invalid_parameter`,
    403 `role_required` / `not_your_team`."""
    return table


@metrics.get(
    "/metrics.csv",
    dependencies=[READERS],
    summary="The same table as CSV, for spreadsheets",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_metrics_csv(table: TableDep) -> Response:
    """The same table as a CSV attachment: hidden figures are empty cells, totals say `all`.
    Raises what `/v1/metrics` raises."""
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
    first = table.rows[0].period_start if table.rows else "empty"
    name = f"werkvloer-metrics-{table.period}-{first}.csv"
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
    """Your statements newest first with what each counts as, your totals per kind and the
    informal share (0-1)."""
    state = request.app.state
    public_url = state.settings.platform.public_url
    return await service.my_learning(
        session, public_url, principal.subject, state.pseudonym_key, limit
    )


@metrics.get("/my-data", summary="Everything the analytics service holds about you (GDPR)")
async def export_my_data(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    after: Annotated[str | None, Query(max_length=200, description="from a `more` link")] = None,
) -> dict[str, Any]:
    """Your statements oldest first, at most ANALYTICS_MAX_EXPORT_KB per answer; `more` links
    to the next part ("" when complete). Raises 400 for an `after` not handed out."""
    settings = request.app.state.settings
    budget = int(settings.max_export_kb) * 1024
    return await gdpr.export(
        session, settings.platform.public_url, principal.subject, budget, after
    )


@metrics.delete("/my-data", summary="Erase your data here (GDPR); safe to repeat")
async def erase_my_data(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, int]:
    """`{"statements_deleted": n, "facts_deleted": n}`; repeating it deletes nothing more."""
    state = request.app.state
    public_url = state.settings.platform.public_url
    return await gdpr.erase(session, public_url, principal.subject, state.pseudonym_key)
