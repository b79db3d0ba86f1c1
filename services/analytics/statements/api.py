"""Routes of the xAPI Statements and About resources: parse, call service.py, present.

Every response carries `X-Experience-API-Version` and malformed requests are 400, not 422
(protocol.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import SessionDep, utcnow
from kit.errors import NotFound, PayloadTooLarge
from services.analytics.credentials.api import LrsCaller, LrsCallerDep
from services.analytics.statements import attachments, service
from services.analytics.statements.formats import ids_only, readable
from services.analytics.statements.params import (
    InvalidParameter,
    decode_more,
    encode_more,
    parse_query,
)
from services.analytics.statements.protocol import SUPPORTED_VERSIONS, check_version
from services.analytics.statements.sizes import check_statement_sizes, fitting
from services.analytics.statements.validation import StatementRejected

MAX_BATCH = 500
SINGLE_ONLY = {"statementId", "voidedStatementId", "attachments", "format"}

router = APIRouter(prefix="/xapi", tags=["xapi"])

VersionHeader = Annotated[str | None, Header(alias="X-Experience-API-Version")]

BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {}},
            "multipart/mixed": {"schema": {"type": "string", "format": "binary"}},
        }
    }
}


def _max_statement(request: Request) -> int:
    return int(request.app.state.settings.max_statement_kb) * 1024


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


@dataclass(frozen=True)
class _Writer:
    """What storing statements takes from a write request: the request (its settings and
    body), the request's session (which owns the transaction) and the LRS caller."""

    request: Request
    session: AsyncSession
    caller: LrsCaller

    async def store(self, statements: list[dict[str, Any]], parts: attachments.Parts) -> list[str]:
        """The ids of `statements`, stored with their attachment `parts` (service.py's
        store_with_attachments, with its errors)."""
        state = self.request.app.state
        return await service.store_with_attachments(
            self.session,
            statements,
            parts,
            self.caller.principal,
            self.caller.scope,
            state.pseudonym_key,
            forward=bool(state.settings.forward_url),
        )


async def _writer(request: Request, session: SessionDep, caller: LrsCallerDep) -> _Writer:
    return _Writer(request, session, caller)


# Resolved before the route's own parameters, as the session and caller were on their own.
WriterDep = Annotated[_Writer, Depends(_writer)]


@router.post(
    "/statements",
    summary="Store one statement or a batch (all or nothing), with attachments as multipart",
    openapi_extra=BODY,
)
async def post_statements(writer: WriterDep, version: VersionHeader = None) -> list[str]:
    """The ids of the stored batch, in order. Raises 400 (`invalid_statement`, ...) for a
    batch of 0 or more than MAX_BATCH statements or a broken rule, 413 for a statement over
    ANALYTICS_MAX_STATEMENT_KB, 409 `statement_conflict` for an id already holding other
    content."""
    check_version(version)
    payload, parts = await _read(writer.request)
    raw = payload if isinstance(payload, list) else [payload]
    if not raw or len(raw) > MAX_BATCH:
        raise StatementRejected(f"send between 1 and {MAX_BATCH} statements")
    check_statement_sizes(raw, _max_statement(writer.request))
    return await writer.store([service.check(s) for s in raw], parts)


@router.put(
    "/statements",
    status_code=204,
    summary="Store one statement under statementId",
    openapi_extra=BODY,
)
async def put_statement(
    writer: WriterDep,
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
    version: VersionHeader = None,
) -> Response:
    """204 once stored. Raises 400 when the body's id differs from `statementId`, besides what
    POST raises."""
    check_version(version)
    payload, parts = await _read(writer.request)
    check_statement_sizes([payload], _max_statement(writer.request))
    statement = service.check(payload)
    if isinstance(payload, dict) and payload.get("id") not in (None, str(statement_id)):
        raise StatementRejected("the statement id differs from statementId")
    statement["id"] = str(statement_id)
    await writer.store([statement], parts)
    return Response(status_code=204)


@router.get("/statements", summary="One statement, or a page of them with a `more` link")
async def get_statements(
    request: Request,
    session: SessionDep,
    caller: LrsCallerDep,
    response: Response,
    version: VersionHeader = None,
    statement_id: Annotated[uuid.UUID | None, Query(alias="statementId")] = None,
    voided_statement_id: Annotated[uuid.UUID | None, Query(alias="voidedStatementId")] = None,
    agent: Annotated[str | None, Query(description="an Agent or Group as JSON")] = None,
    verb: Annotated[str | None, Query(description="a verb IRI")] = None,
    activity: Annotated[str | None, Query(description="an activity IRI")] = None,
    registration: Annotated[str | None, Query(description="a UUID")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 with a time zone")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 with a time zone")] = None,
    limit: Annotated[int, Query(ge=0, le=2**31 - 1)] = 100,
    ascending: bool = False,
    related_agents: bool = False,
    related_activities: bool = False,
    format: Annotated[str, Query(pattern="^(ids|exact|canonical)$")] = "exact",
    more: Annotated[str | None, Query(max_length=4000)] = None,
    with_attachments: Annotated[bool, Query(alias="attachments")] = False,
) -> Any:
    """One statement, or `{"statements": [...], "more": <relative URL or "">}` (xAPI 1.0.3,
    Communication 2.1.3); multipart/mixed with `attachments=true`. Every parameter is parsed
    before use; the caller sees what its scope allows (docs/analytics.md, "Who sees which
    statements"); stored text is made encodable on the way out. Raises 400 for a bad parameter
    or `more` token, 404 `statement_not_found` for a statement the caller may not read or that
    does not exist."""
    check_version(version)
    response.headers["X-Experience-API-Consistent-Through"] = utcnow().isoformat()
    scope = caller.scope
    if statement_id is not None or voided_statement_id is not None:
        others = sorted(set(request.query_params) - SINGLE_ONLY)
        if others or (statement_id and voided_statement_id):
            named = others or ["voidedStatementId"]
            raise InvalidParameter(
                f"{named[0]}: not allowed with statementId or voidedStatementId",
                details=[{"location": ["query", n], "type": "not_allowed"} for n in named],
            )
        wanted = statement_id or voided_statement_id
        assert wanted is not None
        row = await service.read_one(session, wanted, voided_statement_id is not None, scope)
        if row is None:
            raise NotFound("no such statement", code="statement_not_found")
        body = readable(row.body)
        if with_attachments:
            return await service.with_attachments(session, body, [row], response)
        return body
    if more:
        query, after = decode_more(more)
    else:
        raw = {
            "agent": agent, "verb": verb, "activity": activity, "registration": registration,
            "since": since, "until": until, "limit": limit, "ascending": ascending,
            "related_agents": related_agents, "related_activities": related_activities,
        }  # fmt: skip
        query, after = parse_query(raw), None
    rows, has_more = await service.find(session, query, after, scope)
    bodies = [readable(ids_only(row.body) if format == "ids" else row.body) for row in rows]
    fit = fitting(bodies, int(request.app.state.settings.max_page_kb) * 1024)
    if fit < len(rows):
        rows, bodies, has_more = rows[:fit], bodies[:fit], True
    link = f"/xapi/statements?more={encode_more(query, rows[-1])}" if has_more and rows else ""
    result = {"statements": bodies, "more": link}
    if with_attachments:
        return await service.with_attachments(session, result, rows, response)
    return result


@router.get("/about", summary="Versions this LRS speaks")
async def about() -> dict[str, Any]:
    """`{"version": [...], "extensions": {}}` (xAPI 1.0.3, Communication 2.8)."""
    return {"version": list(SUPPORTED_VERSIONS), "extensions": {}}
