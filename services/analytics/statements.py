"""xAPI statements: the rules a statement must meet, how it is stored, voided and found.

Statements are stored by id. The same id with the same content is a no-op (a sender may retry);
the same id with other content is 409. A batch is all or nothing. A voiding statement hides its
target from queries and from GET by `statementId`; `voidedStatementId` still finds it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import and_, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import utcnow
from kit.errors import AppError, Conflict
from kit.outbox import enqueue
from services.analytics.metrics import forget_facts, record_facts
from services.analytics.models import Statement
from services.analytics.validation import Invalid, validate

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
FORWARD_TOPIC = "xapi.forward"


class StatementRejected(AppError):
    status_code = 400
    code = "invalid_statement"


def actor_key(actor: dict[str, Any]) -> str:
    account = actor.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if actor.get(ifi):
            return f"{ifi}:{actor[ifi]}"
    return "group:" + hashlib.sha256(json.dumps(actor, sort_keys=True).encode()).hexdigest()


def fingerprint_of(statement: dict[str, Any]) -> str:
    comparable = {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}
    return hashlib.sha256(json.dumps(comparable, sort_keys=True).encode()).hexdigest()


def errors_of(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            "location": [str(p) for p in e.get("loc", ())],
            "message": e.get("msg"),
            "type": e.get("type"),
        }
        for e in errors
    ]


def check(raw: Any) -> dict[str, Any]:
    """The statement as stored, with an id; or 400 naming the broken rule."""
    try:
        validate(raw)
    except Invalid as exc:
        raise StatementRejected(exc.message, details={"rule": exc.rule}) from exc
    statement = dict(raw)
    statement["id"] = str(raw.get("id") or uuid.uuid4())
    return statement


async def store(
    session: AsyncSession,
    statements: list[dict[str, Any]],
    principal: Principal,
    key: bytes,
    forward: bool = False,
) -> list[str]:
    """Store new statements and their learning facts; `key` keys the facts' pseudonyms. With
    `forward`, new statements also go to the outbox for the external LRS (same transaction)."""
    now = utcnow()
    ids = [uuid.UUID(s["id"]) for s in statements]
    if len(set(ids)) != len(ids):
        raise StatementRejected("a batch may not hold the same statement id twice")
    existing = {
        row.id: row
        for row in (await session.exec(select(Statement).where(col(Statement.id).in_(ids)))).all()
    }
    targets = await _void_targets(session, statements, existing)
    new: list[tuple[dict[str, Any], str]] = []
    rows: list[dict[str, Any]] = []
    for statement, statement_id in zip(statements, ids, strict=True):
        fingerprint = fingerprint_of(statement)
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
        context = statement.get("context") or {}
        new.append((body, actor_key(statement["actor"])))
        if forward:  # as received (with id and timestamp): the other LRS stamps its own
            outgoing = {**statement, "timestamp": body["timestamp"]}
            enqueue(session, FORWARD_TOPIC, statement_id, outgoing)
        rows.append(
            {
                "id": statement_id,
                "body": body,
                "fingerprint": fingerprint,
                "actor_key": actor_key(statement["actor"]),
                "verb_id": statement["verb"]["id"],
                "activity_id": target.get("id")
                if target.get("objectType", "Activity") == "Activity"
                else None,
                "authority": principal.subject,
                "registration": str(context.get("registration"))
                if context.get("registration")
                else None,
                "related_agents": _joined(_agents_in(statement)),
                "related_activities": _joined(_activities_in(statement)),
                "voided": False,
                "stored": now,
            }
        )
    if rows:  # one multi-row INSERT: building ORM objects cost more than the rest
        connection = await session.connection()
        await connection.execute(insert(Statement), rows)
    for target in targets:
        target.voided = True
    await session.flush()
    await record_facts(session, new, key)
    await forget_facts(session, [target.id for target in targets])
    return [str(i) for i in ids]


def _joined(keys: set[str]) -> str:
    return "|" + "|".join(sorted(k.replace("|", "") for k in keys)) + "|"


def _agents_in(statement: dict[str, Any]) -> set[str]:
    """Actor, object agent, instructor, team and their members (related_agents)."""
    found: set[str] = set()

    def add(value: Any) -> None:
        if isinstance(value, dict) and value.get("objectType", "Agent") in ("Agent", "Group"):
            if any(k in value for k in ("mbox", "mbox_sha1sum", "openid", "account")):
                found.add(actor_key(value))
            for member in value.get("member") or []:
                add(member)

    add(statement.get("actor"))
    target = statement.get("object") or {}
    if target.get("objectType") in ("Agent", "Group"):
        add(target)
    if target.get("objectType") == "SubStatement":
        found |= _agents_in(target)
    context = statement.get("context") or {}
    add(context.get("instructor"))
    add(context.get("team"))
    return found


def _activities_in(statement: dict[str, Any]) -> set[str]:
    """Object activity and every context activity (related_activities)."""
    found: set[str] = set()
    target = statement.get("object") or {}
    if target.get("objectType", "Activity") == "Activity" and target.get("id"):
        found.add(str(target["id"]))
    if target.get("objectType") == "SubStatement":
        found |= _activities_in(target)
    activities = (statement.get("context") or {}).get("contextActivities") or {}
    for entries in activities.values():
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict) and entry.get("id"):
                found.add(str(entry["id"]))
    return found


def like_key(key: str) -> str:
    escaped = key.replace("|", "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%|{escaped}|%"


async def _void_targets(
    session: AsyncSession, statements: list[dict[str, Any]], existing: dict[uuid.UUID, Statement]
) -> list[Statement]:
    """Voiding statements must point at a stored statement that is not itself a voiding one."""
    targets = []
    for statement in statements:
        if statement["verb"]["id"] != VOIDED or uuid.UUID(statement["id"]) in existing:
            continue
        ref = statement.get("object") or {}
        if ref.get("objectType") != "StatementRef" or not ref.get("id"):
            raise StatementRejected("object: a voiding statement refers to a StatementRef")
        try:
            target_id = uuid.UUID(str(ref["id"]))
        except ValueError as exc:
            raise StatementRejected("object.id: a StatementRef id is a UUID") from exc
        target = await session.get(Statement, target_id)
        if target is None:
            raise StatementRejected("object: the statement to void is not stored here")
        if target.verb_id == VOIDED:
            raise StatementRejected("object: a voiding statement cannot be voided")
        targets.append(target)
    return targets


class Query(BaseModel):
    """GET /xapi/statements filters (xAPI 1.0.3 section 2.1.3)."""

    agent: dict[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    registration: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=0)
    ascending: bool = False
    related_agents: bool = False
    related_activities: bool = False
    # Set by the route, never by the caller: an LRS client reads only what it wrote.
    authority: str | None = None


MAX_PAGE = 100


def encode_more(query: Query, last: Statement) -> str:
    state = {
        "q": query.model_dump(mode="json", exclude={"authority"}),
        "after": [last.stored.isoformat(), str(last.id)],
    }
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_more(token: str) -> tuple[Query, tuple[datetime, uuid.UUID]]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        stored, last_id = state["after"]
        return Query.model_validate(state["q"]), (
            datetime.fromisoformat(stored),
            uuid.UUID(last_id),
        )
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise StatementRejected("the more link is not one this LRS handed out") from exc


async def find(
    session: AsyncSession, query: Query, after: tuple[datetime, uuid.UUID] | None
) -> tuple[list[Statement], bool]:
    limit = MAX_PAGE if query.limit == 0 else min(query.limit, MAX_PAGE)
    statement = select(Statement).where(col(Statement.voided).is_(False))
    if query.authority is not None:
        statement = statement.where(Statement.authority == query.authority)
    if query.agent is not None:
        key = actor_key(query.agent)
        if query.related_agents:
            statement = statement.where(
                col(Statement.related_agents).like(like_key(key), escape="\\")
            )
        else:
            statement = statement.where(Statement.actor_key == key)
    if query.verb:
        statement = statement.where(Statement.verb_id == query.verb)
    if query.activity:
        if query.related_activities:
            pattern = like_key(query.activity)
            statement = statement.where(
                col(Statement.related_activities).like(pattern, escape="\\")
            )
        else:
            statement = statement.where(Statement.activity_id == query.activity)
    if query.registration:
        statement = statement.where(Statement.registration == str(query.registration))
    if query.since:
        statement = statement.where(col(Statement.stored) > query.since)
    if query.until:
        statement = statement.where(col(Statement.stored) <= query.until)
    stored, ident = col(Statement.stored), col(Statement.id)
    if after is not None:
        at, last = after
        if query.ascending:
            statement = statement.where(or_(stored > at, and_(stored == at, ident > last)))
        else:
            statement = statement.where(or_(stored < at, and_(stored == at, ident < last)))
    order = (stored.asc(), ident.asc()) if query.ascending else (stored.desc(), ident.desc())
    rows = list((await session.exec(statement.order_by(*order).limit(limit + 1))).all())
    return rows[:limit], len(rows) > limit


IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def ids_only(body: dict[str, Any]) -> dict[str, Any]:
    """`format=ids`: agents, activities and verbs reduced to what identifies them."""

    def reduce(value: Any) -> Any:
        if isinstance(value, dict):
            kind = value.get("objectType")
            if kind in ("Agent", "Group") or any(k in value for k in ("mbox", "account", "openid")):
                kept = {
                    k: v
                    for k, v in value.items()
                    if k in ("objectType", "mbox", "mbox_sha1sum", "openid", "account")
                }
                if "member" in value and not any(
                    k in kept for k in ("mbox", "mbox_sha1sum", "openid", "account")
                ):
                    kept["member"] = [reduce(m) for m in value["member"]]
                return kept
            return {k: reduce(v) for k, v in value.items() if k not in ("definition", "display")}
        if isinstance(value, list):
            return [reduce(v) for v in value]
        return value

    return {k: reduce(v) for k, v in body.items()}
