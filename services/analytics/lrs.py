"""Routes of the xAPI Statements and About resources; the rules live in statements.py.

Every response carries `X-Experience-API-Version`; malformed requests are 400, not 422.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from kit.db import SessionDep, utcnow
from kit.errors import NotFound, PayloadTooLarge
from services.analytics import attachments
from services.analytics.clients import LrsPrincipal
from services.analytics.models import Statement
from services.analytics.statements import (
    VERSION,
    StatementRejected,
    check,
    decode_more,
    encode_more,
    errors_of,
    find,
    ids_only,
    store,
)
from services.analytics.statements import Query as StatementQuery

SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
MAX_BATCH = 500

router = APIRouter(prefix="/xapi", tags=["xapi"])


def _version(header: str | None) -> None:
    if header is None:
        raise StatementRejected(
            "the X-Experience-API-Version header is required", code="version_missing"
        )
    if header not in SUPPORTED_VERSIONS:
        raise StatementRejected(
            f"xAPI version {header} is not supported", code="version_unsupported"
        )


def _forwarding(request: Request) -> bool:
    return bool(request.app.state.settings.forward_url)


VersionHeader = Annotated[str | None, Header(alias="X-Experience-API-Version")]


BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {}},
            "multipart/mixed": {"schema": {"type": "string", "format": "binary"}},
        }
    }
}


async def _read(request: Request) -> tuple[Any, attachments.Parts]:
    """JSON, or multipart/mixed with attachment parts; 413 past the size limit."""
    limit = int(request.app.state.settings.max_request_mb * 1024 * 1024)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(
                f"requests are limited to {limit} bytes", details={"limit": limit}
            )
    return attachments.parse(request.headers.get("content-type", ""), bytes(body))


async def _store(
    request: Request, session: Any, principal: Any, statements: list[dict[str, Any]], parts: Any
) -> list[str]:
    references = await attachments.check(session, statements, parts)
    state = request.app.state
    ids = await store(session, statements, principal, state.pseudonym_key, _forwarding(request))
    await attachments.save(session, parts, references)
    return ids


@router.post(
    "/statements",
    summary="Store one statement or a batch (all or nothing), with attachments as multipart",
    openapi_extra=BODY,
)
async def post_statements(
    request: Request,
    session: SessionDep,
    principal: LrsPrincipal,
    version: VersionHeader = None,
) -> list[str]:
    _version(version)
    payload, parts = await _read(request)
    raw = payload if isinstance(payload, list) else [payload]
    if not raw or len(raw) > MAX_BATCH:
        raise StatementRejected(f"send between 1 and {MAX_BATCH} statements")
    return await _store(request, session, principal, [check(s) for s in raw], parts)


@router.put(
    "/statements",
    status_code=204,
    summary="Store one statement under statementId",
    openapi_extra=BODY,
)
async def put_statement(
    request: Request,
    session: SessionDep,
    principal: LrsPrincipal,
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
    version: VersionHeader = None,
) -> Response:
    _version(version)
    payload, parts = await _read(request)
    statement = check(payload)
    if isinstance(payload, dict) and payload.get("id") not in (None, str(statement_id)):
        raise StatementRejected("the statement id differs from statementId")
    statement["id"] = str(statement_id)
    await _store(request, session, principal, [statement], parts)
    return Response(status_code=204)


@router.get("/statements", summary="One statement, or a page of them with a `more` link")
async def get_statements(
    session: SessionDep,
    principal: LrsPrincipal,
    response: Response,
    version: VersionHeader = None,
    statement_id: Annotated[uuid.UUID | None, Query(alias="statementId")] = None,
    voided_statement_id: Annotated[uuid.UUID | None, Query(alias="voidedStatementId")] = None,
    agent: str | None = None,
    verb: str | None = None,
    activity: str | None = None,
    registration: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=0)] = 100,
    ascending: bool = False,
    related_agents: bool = False,
    related_activities: bool = False,
    format: Annotated[str, Query(pattern="^(ids|exact|canonical)$")] = "exact",
    more: Annotated[str | None, Query(max_length=4000)] = None,
    with_attachments: Annotated[bool, Query(alias="attachments")] = False,
) -> Any:
    _version(version)
    response.headers["X-Experience-API-Consistent-Through"] = utcnow().isoformat()
    # Admins read the whole store; an LRS client (an LMS, a service) what it wrote itself.
    reader = None if principal.is_admin else principal.subject
    if statement_id is not None or voided_statement_id is not None:
        wanted = statement_id or voided_statement_id
        row = await session.get(Statement, wanted)
        theirs = row is not None and (reader is None or row.authority == reader)
        if row is None or not theirs or row.voided != (voided_statement_id is not None):
            raise NotFound("no such statement", code="statement_not_found")
        if with_attachments:
            return await attachments.multipart(session, row.body, [row.body], response)
        return row.body
    if more:
        query, after = decode_more(more)
    else:
        try:
            parsed_agent = json.loads(agent) if agent else None
        except json.JSONDecodeError as exc:
            raise StatementRejected("agent must be a JSON object") from exc
        query = StatementQuery(
            agent=parsed_agent, verb=verb, activity=activity, registration=registration,
            since=since, until=until, limit=limit, ascending=ascending,
            related_agents=related_agents, related_activities=related_activities,
        )  # fmt: skip
        after = None
    query.authority = reader  # also over a `more` token, which the caller could have edited
    rows, has_more = await find(session, query, after)
    link = f"/xapi/statements?more={encode_more(query, rows[-1])}" if has_more and rows else ""
    bodies = [ids_only(row.body) if format == "ids" else row.body for row in rows]
    result = {"statements": bodies, "more": link}
    if with_attachments:
        return await attachments.multipart(session, result, bodies, response)
    return result


@router.get("/about", summary="Versions this LRS speaks")
async def about() -> dict[str, Any]:
    return {"version": list(SUPPORTED_VERSIONS), "extensions": {}}


class XapiVersionMiddleware:
    """Every /xapi response carries the version header, errors included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/xapi"):
            await self.app(scope, receive, send)
            return

        async def with_version(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-experience-api-version", VERSION.encode()),
                ]
            await send(message)

        await self.app(scope, receive, with_version)


async def validation_as_400(request: Any, exc: Exception) -> Any:
    """xAPI wants 400 for a malformed request; elsewhere the platform's 422 stands."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    from kit.errors import error_body, validation_error_response

    if request.url.path.startswith("/xapi") and isinstance(exc, RequestValidationError):
        return JSONResponse(
            error_body("invalid_request", "the request is not valid xAPI", errors_of(exc.errors())),
            status_code=400,
        )
    return await validation_error_response(request, exc)
