"""Every query of the learning record store: statements and their attachment content. Functions
flush at most; the caller's session (the request's, or a unit of work) owns the transaction.
What a caller may see is applied here through its `Scope` (scope.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_ignoring_duplicates
from kit.outbox import OutboxMessage
from services.analytics.statements.keys import actor_key, like_key
from services.analytics.statements.models import Attachment, Statement, StatementAttachment
from services.analytics.statements.params import Query
from services.analytics.statements.scope import Scope

Position = tuple[datetime, uuid.UUID]  # (stored, id) of the last statement handed out


async def by_ids(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Statement]:
    """The stored statements among `ids` (voided or not, whoever stored them), by id."""
    rows = await session.exec(select(Statement).where(col(Statement.id).in_(list(ids))))
    return {row.id: row for row in rows.all()}


async def get(session: AsyncSession, statement_id: uuid.UUID) -> Statement | None:
    """The stored statement with this id, or None; no scope applied."""
    return await session.get(Statement, statement_id)


async def add_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert statement rows (column → value) in one multi-row INSERT: building ORM objects
    cost more than the rest of storing a statement."""
    if rows:
        connection = await session.connection()
        await connection.execute(insert(Statement), rows)


async def readable_one(
    session: AsyncSession, statement_id: uuid.UUID, scope: Scope
) -> Statement | None:
    """The statement by id if `scope` may read it, voided or not; else None."""
    query = scope.readable(select(Statement).where(col(Statement.id) == statement_id))
    return (await session.exec(query)).first()


def _after(query: Any, position: Position, ascending: bool = True) -> Any:
    """`query` limited to statements after `position` in (stored, id) order."""
    stored, ident = col(Statement.stored), col(Statement.id)
    at, last = position
    if ascending:
        return query.where(or_(stored > at, and_(stored == at, ident > last)))
    return query.where(or_(stored < at, and_(stored == at, ident < last)))


async def page(
    session: AsyncSession, query: Query, limit: int, after: Position | None, scope: Scope
) -> list[Statement]:
    """Up to `limit` live statements `scope` may read that match `query`'s filters, in its
    order after `after`."""
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
    if after is not None:
        statement = _after(statement, after, query.ascending)
    stored, ident = col(Statement.stored), col(Statement.id)
    order = (stored.asc(), ident.asc()) if query.ascending else (stored.desc(), ident.desc())
    return list((await session.exec(statement.order_by(*order).limit(limit))).all())


def _naming(key: str) -> Any:
    """Statements by the person with actor key `key`, or naming them (instructor, member...)."""
    return or_(
        col(Statement.actor_key) == key,
        col(Statement.related_agents).like(like_key(key), escape="\\"),
    )


async def latest_by(session: AsyncSession, key: str, limit: int) -> list[Statement]:
    """The newest `limit` live statements whose actor key is `key`, newest first."""
    query = (
        select(Statement)
        .where(Statement.actor_key == key, col(Statement.voided).is_(False))
        .order_by(col(Statement.stored).desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def naming_page(
    session: AsyncSession, key: str, after: Position | None, limit: int
) -> list[Statement]:
    """Up to `limit` statements by or naming `key` (voided too), oldest first, after `after`."""
    query = select(Statement).where(_naming(key))
    if after is not None:
        query = _after(query, after)
    ordered = query.order_by(col(Statement.stored).asc(), col(Statement.id).asc())
    return list((await session.exec(ordered.limit(limit))).all())


async def ids_naming(session: AsyncSession, key: str) -> list[uuid.UUID]:
    """The ids of every statement by or naming `key`, voided ones included."""
    return list((await session.exec(select(Statement.id).where(_naming(key)))).all())


async def delete_with_attachments(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Delete the statements `ids`, their attachment references, and content nobody refers to
    any more."""
    await session.exec(delete(Statement).where(col(Statement.id).in_(ids)))
    await session.exec(
        delete(StatementAttachment).where(col(StatementAttachment.statement_id).in_(ids))
    )
    still = select(StatementAttachment.sha2)
    await session.exec(delete(Attachment).where(col(Attachment.sha2).not_in(still)))


async def forget_forwards(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    """Delete the queued (or sent) forwards of the statements `ids`: a forward's outbox message
    id is its statement's id (statements/service.py), so nothing else is read."""
    await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))


async def readable_hashes(session: AsyncSession, scope: Scope, hashes: list[str]) -> set[str]:
    """Those of `hashes` whose content a statement `scope` may read refers to."""
    query = select(StatementAttachment.sha2).join(
        Statement, col(Statement.id) == col(StatementAttachment.statement_id)
    )
    held = scope.readable(query).where(col(StatementAttachment.sha2).in_(hashes))
    return set((await session.exec(held)).all())


async def save_attachments(
    session: AsyncSession,
    parts: dict[str, tuple[str, bytes]],
    references: list[tuple[uuid.UUID, str]],
) -> None:
    """Store content once per hash (`parts`: sha2 → (content type, content)) and record which
    statement refers to which hash; rows that exist already are left as they are."""
    for sha2, (content_type, content) in parts.items():
        await session.exec(
            insert_ignoring_duplicates(session, Attachment).values(
                sha2=sha2, content_type=content_type or "application/octet-stream",
                length=len(content), content=content,
            )
        )  # fmt: skip
    for statement_id, sha2 in references:
        await session.exec(
            insert_ignoring_duplicates(session, StatementAttachment).values(
                statement_id=statement_id, sha2=sha2
            )
        )


async def attachments_of(session: AsyncSession, rows: Sequence[Statement]) -> list[Attachment]:
    """The content recorded for exactly these statements, by hash."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    referred = select(StatementAttachment.sha2).where(
        col(StatementAttachment.statement_id).in_(ids)
    )
    query = select(Attachment).where(col(Attachment.sha2).in_(referred))
    return list((await session.exec(query.order_by(col(Attachment.sha2)))).all())
