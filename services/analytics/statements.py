"""xAPI statements: the rules a statement must meet, how it is stored, voided and found.

Statements are stored by id. The same id with the same content, from the same client, is a
no-op (a sender may retry); the same id with other content, or held by another client, is 409
(one answer for both). A batch is all or nothing. A voiding statement hides its target from
queries and from GET by `statementId`; `voidedStatementId` still finds it. Who may read and
void what is decided by the caller's `Scope` (services/analytics/scope.py) in every function
here that touches stored statements.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import utcnow
from kit.errors import AppError, Conflict
from kit.outbox import enqueue
from kit.text import safe_for_output
from services.analytics.metrics import forget_facts, record_facts
from services.analytics.models import Statement
from services.analytics.params import MAX_PAGE, Query
from services.analytics.scope import Scope
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
    """The statement as stored, with an id; or 400 naming the broken rule (`invalid_statement`,
    or `invalid_text` for NUL / an unpaired surrogate)."""
    try:
        validate(raw)
    except Invalid as exc:
        code = "invalid_text" if exc.rule == "invalid_text" else None
        raise StatementRejected(exc.message, code=code, details={"rule": exc.rule}) from exc
    statement = dict(raw)
    statement["id"] = str(raw.get("id") or uuid.uuid4())
    return statement


async def store(
    session: AsyncSession,
    statements: list[dict[str, Any]],
    principal: Principal,
    key: bytes,
    forward: bool = False,
    scope: Scope | None = None,
) -> list[str]:
    """Store new statements and their learning facts; `key` keys the facts' pseudonyms. With
    `forward`, new statements also go to the outbox for the external LRS (same transaction).

    Raises 409 `statement_conflict` for an id stored with other content or by another client
    (statement ids are global, xAPI 1.0.3 Data 2.4.1; the answer does not say which), 400 for a
    voiding statement whose target the caller may not void or that does not exist."""
    scope = scope or Scope.of(principal)
    now = utcnow()
    ids = [uuid.UUID(s["id"]) for s in statements]
    if len(set(ids)) != len(ids):
        raise StatementRejected("a batch may not hold the same statement id twice")
    existing = {
        row.id: row
        for row in (await session.exec(select(Statement).where(col(Statement.id).in_(ids)))).all()
    }
    targets = await _void_targets(session, statements, existing, scope)
    new: list[tuple[dict[str, Any], str]] = []
    rows: list[dict[str, Any]] = []
    for statement, statement_id in zip(statements, ids, strict=True):
        fingerprint = fingerprint_of(statement)
        known = existing.get(statement_id)
        if known is not None:
            if not scope.owns(known) or known.fingerprint != fingerprint:
                raise Conflict(
                    f"statement id {statement_id} is already taken; store other content under "
                    "another id",
                    code="statement_conflict",
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
    session: AsyncSession,
    statements: list[dict[str, Any]],
    existing: dict[uuid.UUID, Statement],
    scope: Scope,
) -> list[Statement]:
    """Voiding statements must point at a stored statement the caller may void that is not
    itself a voiding one; another client's statement gets the answer of a missing one."""
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
        if target is None or not scope.may_void(target):
            raise StatementRejected(
                "object: no statement with this id that you may void", code="void_target_unknown"
            )
        if target.verb_id == VOIDED:
            raise StatementRejected("object: a voiding statement cannot be voided")
        targets.append(target)
    return targets


async def read_one(
    session: AsyncSession, statement_id: uuid.UUID, voided: bool, scope: Scope
) -> Statement | None:
    """The statement by id (a voided one with `voided`, else a live one) if the caller may read
    it; None alike for missing, other clients' and wrongly (un)voided ones."""
    query = scope.readable(select(Statement).where(col(Statement.id) == statement_id))
    row = (await session.exec(query)).first()
    return row if row is not None and row.voided == voided else None


async def find(
    session: AsyncSession, query: Query, after: tuple[datetime, uuid.UUID] | None, scope: Scope
) -> tuple[list[Statement], bool]:
    """A page of live statements the caller may read, matching `query`, after `after`; and
    whether more follow."""
    limit = MAX_PAGE if query.limit == 0 else min(query.limit, MAX_PAGE)
    statement = scope.readable(select(Statement).where(col(Statement.voided).is_(False)))
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


def readable(value: Any) -> Any:
    """`value` (a stored JSON document) with every string made encodable
    (`kit.text.safe_for_output`): a value stored before the entry rule must not break a read."""
    if isinstance(value, str):
        return safe_for_output(value)
    if isinstance(value, dict):
        return {safe_for_output(str(k)): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


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
