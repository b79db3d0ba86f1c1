"""A person's own learning record: their history (`myLearning`), export and erasure.

The person is the platform account `{WERKVLOER_PUBLIC_URL}|{subject}` — the actor every
Werkvloer service writes. Erasure deletes every statement by them or naming them (as
instructor, team member, ...), their learning facts (found by pseudonym, so also those of
statements already voided) and marks the affected months for recomputation; LRS clients they
made keep working, marked as made by an erased person. Idempotent.

Reads and exports hand out stored text made encodable (`statements.readable`): a value stored
before the entry rule (a lone surrogate, a NUL) shows as U+FFFD instead of failing the read.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.errors import AppError
from kit.personal import ERASED
from kit.pseudonyms import pseudonym
from services.analytics.facts import Fact, derive
from services.analytics.metrics import mark_dirty
from services.analytics.models import LearningFact, LrsClient, PersonTeam
from services.analytics.statements import repository as statements
from services.analytics.statements.formats import readable
from services.analytics.statements.models import Statement
from services.analytics.statements.sizes import json_bytes


def account_key(public_url: str, subject: str) -> str:
    return f"account:{public_url.rstrip('/')}|{subject}"


async def history(
    session: AsyncSession, principal: Principal, public_url: str, key: bytes, limit: int
) -> dict[str, Any]:
    """Your own statements, newest first, each with what it counts as (`kind`, `informal`; None
    when it counts as nothing); and totals per kind and the informal share."""
    me = account_key(public_url, principal.subject)
    rows = await statements.latest_by(session, me, limit)
    facts = (
        await session.exec(select(LearningFact).where(LearningFact.person == pseudonym(key, me)))
    ).all()
    totals: dict[str, int] = {}
    for fact in facts:
        totals[fact.kind] = totals.get(fact.kind, 0) + 1
    items = []
    for row in rows:
        body = readable(row.body)
        meaning = _meaning(body, me, key)
        target = _mapping(body.get("object"))
        definition = _mapping(target.get("definition"))
        items.append(
            {
                "id": str(row.id),
                "verb": body.get("verb"),
                "object": target.get("id"),
                "object_type": definition.get("type"),
                "timestamp": body.get("timestamp"),
                "kind": meaning.kind if meaning else None,
                "informal": meaning.informal if meaning else None,
            }
        )
    informal = sum(1 for f in facts if f.informal)
    return {
        "totals": totals,
        "informal_share": round(informal / len(facts), 4) if facts else None,
        "statements": items,
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _meaning(body: dict[str, Any], me: str, key: bytes) -> Fact | None:
    """What a stored statement counts as, or None, also for a row stored before today's
    rules that no longer reads as a fact (the history shows it without a kind)."""
    try:
        return derive(body, me, key)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


EXPORT_BATCH = 100


async def export(
    session: AsyncSession, public_url: str, subject: str, budget: int, after: str | None = None
) -> dict[str, Any]:
    """The statements by or naming the person, as stored (text made encodable), oldest first,
    at most `budget` bytes of them (at least one); `more` is the link to the rest, or "".

    `after` is the `more` link's token; 400 `invalid_request` when it is not one handed out."""
    me = account_key(public_url, subject)
    position = _position(after) if after is not None else None
    bodies: list[Any] = []
    used, last_row = 0, None
    while True:
        batch = await statements.naming_page(session, me, position, EXPORT_BATCH)
        for row in batch:
            body = readable(row.body)
            used += json_bytes(body) + 1
            if used > budget and bodies:
                return {"statements": bodies, "more": _more(last_row)}
            bodies.append(body)
            last_row = row
        if len(batch) < EXPORT_BATCH or last_row is None:
            return {"statements": bodies, "more": ""}
        position = (last_row.stored, last_row.id)


def _more(row: Statement | None) -> str:
    if row is None:
        return ""
    return "/v1/my-data?after=" + quote(f"{row.stored.isoformat()}|{row.id}", safe="")


def _position(token: str) -> tuple[datetime, uuid.UUID]:
    try:
        stored, ident = token.split("|", 1)
        at = datetime.fromisoformat(stored)
        return at, uuid.UUID(ident)
    except ValueError as exc:
        raise AppError("after: not a position this service handed out") from exc


async def erase(session: AsyncSession, public_url: str, subject: str, key: bytes) -> dict[str, int]:
    me = account_key(public_url, subject)
    person = pseudonym(key, me)
    ids = await statements.ids_naming(session, me)
    months = set(
        (
            await session.exec(
                select(LearningFact.month).where(
                    or_(col(LearningFact.person) == person, col(LearningFact.statement_id).in_(ids))
                )
            )
        ).all()
    )
    facts = await session.exec(
        delete(LearningFact).where(
            or_(col(LearningFact.person) == person, col(LearningFact.statement_id).in_(ids))
        )
    )
    await statements.delete_with_attachments(session, ids)
    await session.exec(delete(PersonTeam).where(col(PersonTeam.person) == person))
    await session.exec(
        update(LrsClient).where(col(LrsClient.created_by) == subject).values(created_by=ERASED)
    )
    await mark_dirty(session, months)
    await session.flush()
    return {"statements_deleted": len(ids), "facts_deleted": facts.rowcount}
