"""Learning metrics, one's own learning history, and one's data across all services (GDPR).

Export and erasure call every service; a service that does not answer is tried four times
(`RETRIES` more, after 0.25, 0.5 and 1 s) and, if it still fails, named in the
result — never skipped silently. Erasure is idempotent, so running it again finishes what a
failed run left, and so its DELETE may be retried although the gateway retries reads only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.schema.connections import check_first
from gateway.schema.context import Context
from gateway.schema.errors import raise_for_query, raise_unavailable
from gateway.security import signed_in_field, signed_in_mutation
from gateway.upstream import UpstreamUnavailable, ask, read

SERVICES = ("ideas", "reflection", "analytics")
RETRIES = 3
# Waits of 0.25, 0.5 and 1 s between the tries: long enough for a restarting service to come back.
FIRST_WAIT_SECONDS = 0.25


@strawberry.enum(description="Period of a metrics row: closed ISO weeks, or months of whole weeks.")
class MetricPeriod(Enum):
    """Closed ISO weeks, or months of whole weeks."""

    WEEK = "week"
    MONTH = "month"


@strawberry.enum(description="Which breakdown to return.")
class MetricGrouping(Enum):
    """The breakdown of the metrics table (the analytics service's `group_by`)."""

    NONE = "none"
    TEAM = "team"
    PROCESS = "process"
    TEAM_AND_PROCESS = "team,process"


@strawberry.input(description="Narrow the table to whole cells: a date range, a team, a process.")
class MetricFilter:
    """Dates (inclusive), team and process that narrow the table to whole cells."""

    from_date: date | None = strawberry.field(default=None, description="First day (inclusive).")
    to_date: date | None = strawberry.field(default=None, description="Last day (inclusive).")
    team: str | None = strawberry.field(default=None, description="One team.")
    process: str | None = strawberry.field(default=None, description="One process.")


# The figures of a metrics row in the order the schema lists them, as the analytics service
# names them in `metrics` (services/analytics/metrics/figures.py): name → (count or rate,
# description). Declared once for the GraphQL type and for reading the REST row.
FIGURES: dict[str, tuple[type, str]] = {
    "active_learners": (int, "People with any learning event."),
    "reflections": (int, "Reflections completed."),
    "ideas_submitted": (int, "Ideas proposed."),
    "ideas_adopted": (int, "Ideas adopted."),
    "ideas_rejected": (int, "Ideas rejected."),
    "ideas_implemented": (int, "Ideas implemented."),
    "ideas_supported": (int, "Supports given."),
    "ideas_commented": (int, "Comments written."),
    "documents_consulted": (int, "Documents consulted."),
    "formal_completed": (int, "LMS completions (formal)."),
    "formal_passed": (int, "LMS passes (formal)."),
    "adoption_rate": (float, "Adopted / decided; null if either is hidden."),
    "median_days_to_decision": (float, "Submission → decision."),
    "hours_saved_per_week": (float, "Realised, implemented."),
    "work_pressure_change": (float, "Mean, from -2 to +2."),
    "wellbeing_change": (float, "Mean, from -2 to +2."),
    "informal_share": (
        float,
        "Share of learning events that happened in the work (not formal); null "
        "if any count of the row is hidden.",
    ),
}


def _with_figures(cls: type) -> type:
    # Appended after the declared fields, so the schema lists them in FIGURES' order; each is
    # nullable because the privacy rules may hide it.
    for name, (kind, description) in FIGURES.items():
        cls.__annotations__[name] = kind | None
        setattr(cls, name, strawberry.field(description=description))
    return cls


@strawberry.type(
    description="One period, team and process. Null numbers: too few people, derivable from "
    "other figures, or computed from a hidden number."
)
@_with_figures
class LearningMetricRow:
    """One period, team and process, then every figure of FIGURES (int or float); a number the
    privacy rules hide is None."""

    period_start: date = strawberry.field(description="Monday the period starts.")
    period_end: date = strawberry.field(description="Sunday the period ends.")
    team: str | None = strawberry.field(
        description='Null: all teams (a coach: their own); "" no known team.'
    )
    process: str | None = strawberry.field(description='Null: all processes; "" none named.')
    suppressed: bool = strawberry.field(description="Every number hidden (group too small).")


@strawberry.type(description="A table of learning metrics, privacy-safe.")
class LearningMetrics:
    """The metrics table with the minimum group size; `csv` is fetched only when asked for."""

    period: MetricPeriod = strawberry.field(description="Week or month.")
    min_group_size: int = strawberry.field(description="No number rests on fewer people.")
    rows: list[LearningMetricRow] = strawberry.field(description="In period order.")
    params: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The same table as CSV, for spreadsheets.")
    async def csv(self, info: Info[Context, None]) -> str:
        """The same table as CSV text (the query's parameters again). Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        # Fetched only when asked for: most readers want the rows alone.
        return await read(info, "analytics", "/v1/metrics.csv", str, params=self.params)


@strawberry.type(description="Your own learning history: only you can see it.")
class MyLearning:
    """The caller's own learning: totals per kind, informal share, and their statements."""

    totals: JSON = strawberry.field(description="Events per kind, all time.")
    informal_share: float | None = strawberry.field(description="Share learned in the work.")
    statements: JSON = strawberry.field(description="Your xAPI statements, newest first.")


@strawberry.type(description="What one service did with an erasure request.")
class ServiceErasure:
    """What one service did with an erasure: `erased` False when it did not answer."""

    service: str = strawberry.field(description="ideas, reflection or analytics.")
    erased: bool = strawberry.field(description="False: it did not answer; run it again.")
    details: JSON | None = strawberry.field(description="What was deleted or anonymised.")


@strawberry.type(description="The result of erasing your data across the platform.")
class ErasureReport:
    """Erasure across the platform: `complete` when every service erased."""

    complete: bool = strawberry.field(description="True when every service erased.")
    services: list[ServiceErasure] = strawberry.field(description="Per service.")


def _row(data: dict[str, Any]) -> LearningMetricRow:
    m = data["metrics"]
    return LearningMetricRow(
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        team=data.get("team"),
        process=data.get("process"),
        suppressed=data["suppressed"],
        **{name: m[name] for name in FIGURES if name in m},
    )


@strawberry.type
class LearningQuery:
    """The learning fields: learningMetrics, myLearning, exportMyData."""

    @signed_in_field(
        "Learning metrics per team/process and period (analysts, admins; coaches "
        "for their own teams, whose total is made of their teams' shown figures). Numbers resting "
        "on fewer than the minimum group, or that would give such a number away, are null."
    )
    async def learning_metrics(
        self,
        info: Info[Context, None],
        group_by: MetricGrouping = MetricGrouping.NONE,
        period: MetricPeriod = MetricPeriod.WEEK,
        filter: MetricFilter | None = None,
    ) -> LearningMetrics:
        """The privacy-safe metrics table for the grouping, period and filter (analytics
        decides who may read it). Raises GraphQLError (gateway.upstream.read):
        BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code in capitals."""
        params: dict[str, Any] = {"group_by": group_by.value, "period": period.value}
        if filter is not None:
            for name, value in (
                ("from", filter.from_date),
                ("to", filter.to_date),
                ("team", filter.team),
                ("process", filter.process),
            ):
                if value is not None:
                    params[name] = str(value)
        return await read(
            info,
            "analytics",
            "/v1/metrics",
            lambda body: LearningMetrics(
                period=period,
                min_group_size=body["min_group_size"],
                rows=[_row(r) for r in body["rows"]],
                params=params,
            ),
            params=params,
        )

    @signed_in_field("Your own learning history, formal and informal.")
    async def my_learning(self, info: Info[Context, None], first: int = 100) -> MyLearning:
        """The caller's learning history with at most `first` (1-500) statements. Raises
        GraphQLError BAD_USER_INPUT for `first` out of range; Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        check_first(first, 500)
        return await read(
            info,
            "analytics",
            "/v1/my-learning",
            lambda body: MyLearning(
                totals=body["totals"],
                informal_share=body["informal_share"],
                statements=body["statements"],
            ),
            params={"limit": first},
        )

    @signed_in_field(
        "Everything the platform holds about you, as one JSON document. The "
        "learning records come in parts of bounded size: while `analyticsAfter` in the answer "
        "is not null, ask again with `analyticsAfter` set to it for the next part (only the "
        "analytics section is sent then)."
    )
    async def export_my_data(
        self,
        info: Info[Context, None],
        analytics_after: Annotated[
            str | None,
            strawberry.argument(
                description="Where the next part of your learning records starts: the "
                "`analyticsAfter` of the previous answer; leave out for the whole export."
            ),
        ] = None,
    ) -> JSON:
        """A JSON document: subject, exported_at, each service's export of the caller's data
        (only analytics when `analytics_after` is given), and analyticsAfter for the next
        part or None. Each service is asked up to four times (0.2, 0.6, 1.5 s apart). Raises
        GraphQLError SERVICE_UNAVAILABLE when one still does not answer, or the service's
        code in capitals when it refuses."""
        principal = info.context.principal
        assert principal is not None
        document: dict[str, Any] = {
            "subject": principal.subject,
            "exported_at": datetime.now(UTC).isoformat(),
        }
        services = ("analytics",) if analytics_after else SERVICES
        params = {"after": analytics_after} if analytics_after else None
        try:
            replies = await asyncio.gather(
                *(
                    ask(
                        info,
                        service,
                        "GET",
                        "/v1/my-data",
                        params=params if service == "analytics" else None,
                        retries=RETRIES,
                        first_wait_seconds=FIRST_WAIT_SECONDS,
                    )
                    for service in services
                )
            )
        except UpstreamUnavailable as exc:
            raise_unavailable(exc)
        for service, reply in zip(services, replies, strict=True):
            raise_for_query(reply)
            document[service] = reply.body
        more = (document.get("analytics") or {}).get("more") or ""
        document["analyticsAfter"] = parse_qs(urlsplit(more).query).get("after", [None])[0]
        return document  # type: ignore[return-value]  # JSON is any JSON value


@strawberry.type
class LearningMutation:
    """The eraseMyData mutation."""

    @signed_in_mutation("Erase your data in every service (idempotent; run again if incomplete).")
    async def erase_my_data(self, info: Info[Context, None]) -> ErasureReport:
        """ErasureReport: each service asked to erase the caller's data, up to four times
        when it does not answer; never raises for a service that fails (it is named with
        erased False)."""

        async def one(service: str) -> ServiceErasure:
            try:
                reply = await ask(
                    info,
                    service,
                    "DELETE",
                    "/v1/my-data",
                    retries=RETRIES,
                    first_wait_seconds=FIRST_WAIT_SECONDS,
                )
            except UpstreamUnavailable:
                return ServiceErasure(service=service, erased=False, details=None)
            return ServiceErasure(service=service, erased=reply.ok, details=reply.body)

        results = await asyncio.gather(*(one(service) for service in SERVICES))
        return ErasureReport(complete=all(r.erased for r in results), services=list(results))
