"""Routes of the xAPI Statements and About resources; the rules live in statements.py.

Every response carries `X-Experience-API-Version`; malformed requests are 400, not 422.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from kit.db import SessionDep, utcnow
from kit.errors import NotFound, PayloadTooLarge
from services.analytics import attachments
from services.analytics.clients import LrsCaller, LrsCallerDep
from services.analytics.params import InvalidParameter, decode_more, encode_more, parse_query
from services.analytics.sizes import check_statement_sizes, fitting
from services.analytics.statements import (
    VERSION,
    StatementRejected,
    check,
    errors_of,
    find,
    ids_only,
    read_one,
    readable,
    store,
)

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


def _max_statement(request: Request) -> int:
    return int(request.app.state.settings.max_statement_kb) * 1024


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
    request: Request,
    session: Any,
    caller: LrsCaller,
    statements: list[dict[str, Any]],
    parts: Any,
) -> list[str]:
    references = await attachments.check(session, statements, parts, caller.scope)
    key = request.app.state.pseudonym_key
    ids = await store(
        session, statements, caller.principal, key, _forwarding(request), caller.scope
    )
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
    caller: LrsCallerDep,
    version: VersionHeader = None,
) -> list[str]:
    _version(version)
    payload, parts = await _read(request)
    raw = payload if isinstance(payload, list) else [payload]
    if not raw or len(raw) > MAX_BATCH:
        raise StatementRejected(f"send between 1 and {MAX_BATCH} statements")
    check_statement_sizes(raw, _max_statement(request))
    return await _store(request, session, caller, [check(s) for s in raw], parts)


@router.put(
    "/statements",
    status_code=204,
    summary="Store one statement under statementId",
    openapi_extra=BODY,
)
async def put_statement(
    request: Request,
    session: SessionDep,
    caller: LrsCallerDep,
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
    version: VersionHeader = None,
) -> Response:
    _version(version)
    payload, parts = await _read(request)
    check_statement_sizes([payload], _max_statement(request))
    statement = check(payload)
    if isinstance(payload, dict) and payload.get("id") not in (None, str(statement_id)):
        raise StatementRejected("the statement id differs from statementId")
    statement["id"] = str(statement_id)
    await _store(request, session, caller, [statement], parts)
    return Response(status_code=204)


SINGLE_ONLY = {"statementId", "voidedStatementId", "attachments", "format"}


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
    """Every parameter is parsed before use (services/analytics/params.py); what the caller may
    see is its scope's (services/analytics/scope.py); stored text is made encodable on the
    way out."""
    _version(version)
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
        row = await read_one(session, wanted, voided_statement_id is not None, scope)
        if row is None:
            raise NotFound("no such statement", code="statement_not_found")
        body = readable(row.body)
        if with_attachments:
            return await attachments.multipart(session, body, [row], response)
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
    rows, has_more = await find(session, query, after, scope)
    bodies = [readable(ids_only(row.body) if format == "ids" else row.body) for row in rows]
    fit = fitting(bodies, int(request.app.state.settings.max_page_kb) * 1024)
    if fit < len(rows):
        rows, bodies, has_more = rows[:fit], bodies[:fit], True
    link = f"/xapi/statements?more={encode_more(query, rows[-1])}" if has_more and rows else ""
    result = {"statements": bodies, "more": link}
    if with_attachments:
        return await attachments.multipart(session, result, rows, response)
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
        details = errors_of(exc.errors())
        named = sorted({d["location"][-1] for d in details if len(d["location"]) > 1})
        message = "the request is not valid xAPI" + (f": {', '.join(named)}" if named else "")
        return JSONResponse(error_body("invalid_request", message, details), status_code=400)
    return await validation_error_response(request, exc)
