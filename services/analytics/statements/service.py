"""xAPI statements: the rules a statement must meet, how it is stored, voided and found.

Statements are stored by id. The same id with the same content, from the same client, is a
no-op (a sender may retry); the same id with other content, or held by another client, is 409
(one answer for both). A batch is all or nothing. A voiding statement hides its target from
queries and from GET by `statementId`; `voidedStatementId` still finds it. Who may read and
void what is decided by the caller's `Scope` (scope.py) in every function here that touches
stored statements.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import utcnow
from kit.errors import Conflict
from kit.outbox import enqueue
from services.analytics.metrics.service import forget_facts, record_facts
from services.analytics.statements import attachments, repository
from services.analytics.statements.attachments import Parts
from services.analytics.statements.keys import (
    activities_in,
    actor_key,
    agents_in,
    fingerprint_of,
    joined,
)
from services.analytics.statements.models import Statement
from services.analytics.statements.params import MAX_PAGE, Query
from services.analytics.statements.scope import Scope
from services.analytics.statements.validation import Invalid, StatementRejected, validate

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
FORWARD_TOPIC = "xapi.forward"


def check(raw: Any) -> dict[str, Any]:
    """The statement as stored, with an id (a new UUID when it has none). Raises
    StatementRejected (400 `invalid_statement` naming the broken rule in `details.rule`, or
    `invalid_text` for NUL / an unpaired surrogate) at the first xAPI rule it breaks."""
    try:
        validate(raw)
    except Invalid as exc:
        code = "invalid_text" if exc.rule == "invalid_text" else None
        raise StatementRejected(exc.message, code=code, details={"rule": exc.rule}) from exc
    statement = dict(raw)
    statement["id"] = str(raw.get("id") or uuid.uuid4())
    return statement


def _row(
    statement: dict[str, Any], body: dict[str, Any], authority: str, now: datetime
) -> dict[str, Any]:
    """The `statements` row of a new statement: its body and what it is found by (keys.py)."""
    target = statement.get("object", {})
    context = statement.get("context") or {}
    registration = context.get("registration")
    return {
        "id": uuid.UUID(statement["id"]),
        "body": body,
        "fingerprint": fingerprint_of(statement),
        "actor_key": actor_key(statement["actor"]),
        "verb_id": statement["verb"]["id"],
        "activity_id": target.get("id")
        if target.get("objectType", "Activity") == "Activity"
        else None,
        "authority": authority,
        "registration": str(registration) if registration else None,
        "related_agents": joined(agents_in(statement)),
        "related_activities": joined(activities_in(statement)),
        "voided": False,
        "stored": now,
    }


async def store(
    session: AsyncSession,
    statements: list[dict[str, Any]],
    principal: Principal,
    key: bytes,
    forward: bool = False,
    scope: Scope | None = None,
) -> list[str]:
    """Store new statements and their learning facts, in `session`'s transaction; returns the
    ids of all `statements` in order. `key` keys the facts' pseudonyms. With `forward`, new
    statements also go to the outbox for the external LRS (same transaction).

    Raises Conflict (409 `statement_conflict`) for an id stored with other content or by
    another client (statement ids are global, xAPI 1.0.3 Data 2.4.1; the answer does not say
    which); StatementRejected (400) for a batch holding one id twice, and for a voiding
    statement whose target the caller may not void or that does not exist
    (`void_target_unknown`)."""
    scope = scope or Scope.of(principal)
    now = utcnow()
    ids = [uuid.UUID(s["id"]) for s in statements]
    if len(set(ids)) != len(ids):
        raise StatementRejected("a batch may not hold the same statement id twice")
    existing = await repository.by_ids(session, ids)
    targets = await _void_targets(session, statements, existing, scope)
    new: list[tuple[dict[str, Any], str]] = []
    rows: list[dict[str, Any]] = []
    for statement, statement_id in zip(statements, ids, strict=True):
        known = existing.get(statement_id)
        if known is not None:
            if not scope.owns(known) or known.fingerprint != fingerprint_of(statement):
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
        new.append((body, actor_key(statement["actor"])))
        if forward:  # as received (with id and timestamp): the other LRS stamps its own
            outgoing = {**statement, "timestamp": body["timestamp"]}
            enqueue(session, FORWARD_TOPIC, statement_id, outgoing)
        rows.append(_row(statement, body, principal.subject, now))
    await repository.add_rows(session, rows)
    for target in targets:
        target.voided = True
    await session.flush()
    await record_facts(session, new, key)
    await forget_facts(session, [target.id for target in targets])
    return [str(i) for i in ids]


async def store_with_attachments(
    session: AsyncSession,
    statements: list[dict[str, Any]],
    parts: Parts,
    principal: Principal,
    scope: Scope,
    key: bytes,
    forward: bool,
) -> list[str]:
    """`store` for a request that may carry attachment content (`parts`); returns the ids.
    Raises StatementRejected (400) for content missing, unclaimed or of the wrong length
    (attachments.py), besides what `store` raises."""
    declared = attachments.declared(statements, parts)
    missing = [sha2 for sha2 in declared if sha2 not in parts]
    held = await repository.readable_hashes(session, scope, missing) if missing else set()
    references = attachments.references(statements, parts, declared, held)
    ids = await store(session, statements, principal, key, forward, scope)
    await repository.save_attachments(session, parts, references)
    return ids


async def with_attachments(
    session: AsyncSession, payload: Any, rows: list[Statement], base: Response
) -> Response:
    """`payload` as multipart/mixed followed by the content stored with exactly `rows` (already
    limited to what the caller may read), keeping `base`'s headers (attachments.multipart)."""
    return attachments.multipart(payload, await repository.attachments_of(session, rows), base)


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
        target = await repository.get(session, target_id)
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
    row = await repository.readable_one(session, statement_id, scope)
    return row if row is not None and row.voided == voided else None


async def find(
    session: AsyncSession,
    query: Query,
    after: repository.Position | None,
    scope: Scope,
) -> tuple[list[Statement], bool]:
    """A page of live statements the caller may read, matching `query`, after `after` (at most
    `query.limit`, and never more than MAX_PAGE; 0 means MAX_PAGE); and whether more follow."""
    limit = MAX_PAGE if query.limit == 0 else min(query.limit, MAX_PAGE)
    rows = await repository.page(session, query, limit + 1, after, scope)
    return rows[:limit], len(rows) > limit
