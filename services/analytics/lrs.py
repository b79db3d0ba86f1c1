"""The xAPI Statements resource (the part the platform's own relay needs first).

Statements are stored by id. The same id with the same content is a no-op (so a relay may
deliver at least once); the same id with other content is 409. A batch is all or nothing.
Every response carries `X-Experience-API-Version`; malformed statements are 400, not 422.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import col, select

from kit.auth import Principal, Role, require_roles
from kit.db import SessionDep, utcnow
from kit.errors import AppError, Conflict, NotFound
from services.analytics.models import Statement

VERSION = "1.0.3"
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
MAX_BATCH = 500

router = APIRouter(prefix="/xapi", tags=["xapi"])
Writer = require_roles(Role.lrs_client)


class StatementRejected(AppError):
    status_code = 400
    code = "invalid_statement"


class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid")
    homePage: str = Field(min_length=1)
    name: str = Field(min_length=1)


class _Actor(BaseModel):
    model_config = ConfigDict(extra="allow")
    objectType: str | None = None
    name: str | None = None
    mbox: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None
    account: _Account | None = None

    @field_validator("mbox")
    @classmethod
    def _mailto(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("mailto:"):
            raise ValueError("mbox must be a mailto: IRI")
        return value


class _Verb(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    display: dict[str, str] | None = None


class _Object(BaseModel):
    model_config = ConfigDict(extra="allow")
    objectType: str | None = None
    id: str | None = None


class IncomingStatement(BaseModel):
    """The shape checks of a statement; the rules named in each refusal."""

    model_config = ConfigDict(extra="forbid")
    id: uuid.UUID | None = None
    actor: _Actor
    verb: _Verb
    object: _Object
    result: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    timestamp: datetime | None = None
    attachments: list[dict[str, Any]] | None = None
    version: str | None = None

    @field_validator("timestamp")
    @classmethod
    def _zoned(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp must carry a time zone (ISO 8601)")
        return value


def _actor_key(actor: dict[str, Any]) -> str:
    account = actor.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if actor.get(ifi):
            return f"{ifi}:{actor[ifi]}"
    return "group:" + hashlib.sha256(json.dumps(actor, sort_keys=True).encode()).hexdigest()


def _fingerprint(statement: dict[str, Any]) -> str:
    comparable = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    return hashlib.sha256(json.dumps(comparable, sort_keys=True).encode()).hexdigest()


def _errors(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            "location": [str(p) for p in e.get("loc", ())],
            "message": e.get("msg"),
            "type": e.get("type"),
        }
        for e in errors
    ]


def _check(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise StatementRejected("a statement is a JSON object")
    try:
        parsed = IncomingStatement.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StatementRejected(f"{where}: {first['msg']}", details=_errors(exc.errors())) from exc
    actor = parsed.actor
    if (
        actor.objectType in (None, "Agent")
        and sum(
            x is not None for x in (actor.mbox, actor.mbox_sha1sum, actor.openid, actor.account)
        )
        != 1
    ):
        raise StatementRejected("actor: an Agent has exactly one inverse functional identifier")
    statement = dict(raw)
    statement["id"] = str(parsed.id or uuid.uuid4())
    return statement


async def _store(
    session: SessionDep, statements: list[dict[str, Any]], principal: Principal
) -> list[str]:
    now = utcnow()
    ids = [uuid.UUID(s["id"]) for s in statements]
    if len(set(ids)) != len(ids):
        raise StatementRejected("a batch may not hold the same statement id twice")
    existing = {
        row.id: row
        for row in (await session.exec(select(Statement).where(col(Statement.id).in_(ids)))).all()
    }
    for statement, statement_id in zip(statements, ids, strict=True):
        fingerprint = _fingerprint(statement)
        known = existing.get(statement_id)
        if known is not None:
            if known.fingerprint != fingerprint:
                raise Conflict(
                    f"statement {statement_id} exists with other content", code="statement_conflict"
                )
            continue
        body = {
            **statement,
            "stored": now.isoformat(),
            "timestamp": statement.get("timestamp") or now.isoformat(),
            "authority": {
                "objectType": "Agent",
                "account": {"homePage": "urn:werkvloer:lrs", "name": principal.subject},
            },
            "version": statement.get("version") or VERSION,
        }
        target = statement.get("object", {})
        session.add(
            Statement(
                id=statement_id,
                body=body,
                fingerprint=fingerprint,
                actor_key=_actor_key(statement["actor"]),
                verb_id=statement["verb"]["id"],
                activity_id=target.get("id")
                if target.get("objectType", "Activity") == "Activity"
                else None,
                authority=principal.subject,
                stored=now,
            )
        )
    await session.flush()
    return [str(i) for i in ids]


def _version(header: str | None) -> None:
    if header is None:
        raise StatementRejected(
            "the X-Experience-API-Version header is required", code="version_missing"
        )
    if header not in SUPPORTED_VERSIONS:
        raise StatementRejected(
            f"xAPI version {header} is not supported", code="version_unsupported"
        )


VersionHeader = Annotated[str | None, Header(alias="X-Experience-API-Version")]


@router.post("/statements", summary="Store one statement or a batch (all or nothing)")
async def post_statements(
    session: SessionDep,
    principal: Annotated[Principal, Writer],
    version: VersionHeader = None,
    payload: Annotated[Any, Body()] = None,
) -> list[str]:
    _version(version)
    raw = payload if isinstance(payload, list) else [payload]
    if not raw or len(raw) > MAX_BATCH:
        raise StatementRejected(f"send between 1 and {MAX_BATCH} statements")
    return await _store(session, [_check(s) for s in raw], principal)


@router.put("/statements", status_code=204, summary="Store one statement under statementId")
async def put_statement(
    session: SessionDep,
    principal: Annotated[Principal, Writer],
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
    version: VersionHeader = None,
    payload: Annotated[Any, Body()] = None,
) -> Response:
    _version(version)
    statement = _check(payload)
    if isinstance(payload, dict) and payload.get("id") not in (None, str(statement_id)):
        raise StatementRejected("the statement id differs from statementId")
    statement["id"] = str(statement_id)
    await _store(session, [statement], principal)
    return Response(status_code=204)


@router.get("/statements", summary="One statement by id")
async def get_statement(
    session: SessionDep,
    principal: Annotated[Principal, Writer],
    statement_id: Annotated[uuid.UUID, Query(alias="statementId")],
    version: VersionHeader = None,
) -> dict[str, Any]:
    _version(version)
    row = await session.get(Statement, statement_id)
    if row is None or row.voided:
        raise NotFound("no such statement", code="statement_not_found")
    return row.body


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
            error_body("invalid_request", "the request is not valid xAPI", _errors(exc.errors())),
            status_code=400,
        )
    return await validation_error_response(request, exc)
