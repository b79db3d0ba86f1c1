"""What the ideas routes depend on: the services for the request (on its session, which owns
the transaction) and the If-Match header of versioned writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from kit.auth import PrincipalDep
from kit.db import ReadSessionDep, SessionDep
from services.ideas.service.discussion import Discussion
from services.ideas.service.ideas import IdeasService


async def _service(request: Request, session: SessionDep, principal: PrincipalDep) -> IdeasService:
    return IdeasService(session, principal, request.app.state.settings)


ServiceDep = Annotated[IdeasService, Depends(_service)]


async def _read_service(
    request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> IdeasService:
    return IdeasService(session, principal, request.app.state.settings)


# For POST routes that only read: they never hold SQLite's write lock.
ReadServiceDep = Annotated[IdeasService, Depends(_read_service)]


async def _discussion(service: ServiceDep) -> Discussion:
    return Discussion(service)


DiscussionDep = Annotated[Discussion, Depends(_discussion)]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=40,
        description='The ETag you read (`"<version>"`); required: 428 without it, '
        "a stale one is refused (see the route).",
    ),
]
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    428: {"description": "If-Match missing (`if_match_required`)"},
}
# Versioned writes that refuse a stale ETag (412) as well as a missing one (428).
VERSIONED_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "stale version"},
    **PRECONDITION_RESPONSES,
}
