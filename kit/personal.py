"""Helpers for a person's right to erasure, shared by every service that keeps JSON documents
(outbox messages, webhook payloads) which may name someone.

A person is named by their subject: as an xAPI account name, or as `subject` / `*_id` fields
of our own payloads. Finding is two-step: a portable text match narrows the rows, an exact walk
through the JSON decides.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.outbox import OutboxMessage

ERASED = "erased"
ERASED_NAME = "(erased)"
NAME_KEYS = ("subject", "name", "author_id", "actor_id", "person_id")


def names(value: Any, subject: str) -> bool:
    if isinstance(value, dict):
        if any(value.get(key) == subject for key in NAME_KEYS):
            return True
        return any(names(item, subject) for item in value.values())
    if isinstance(value, list):
        return any(names(item, subject) for item in value)
    return False


def scrub(value: Any, subject: str) -> Any:
    """The same JSON with every mention of the person replaced by the erased placeholder."""
    if isinstance(value, dict):
        if any(value.get(key) == subject for key in NAME_KEYS):
            return {
                key: ERASED if item == subject else (ERASED_NAME if key == "name" else item)
                for key, item in value.items()
            }
        return {key: scrub(item, subject) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, subject) for item in value]
    return value


def like_json(column: Any, subject: str) -> Any:
    escaped = subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, Text).like(f"%{escaped}%", escape="\\")


async def forget_in_outbox(session: AsyncSession, subject: str) -> int:
    """Delete outbox messages (sent or not) that name the person; returns how many."""
    rows = await session.exec(
        select(OutboxMessage).where(like_json(col(OutboxMessage.payload), subject))
    )
    doomed = [row.id for row in rows.all() if names(row.payload, subject)]
    if doomed:
        await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(doomed)))
    return len(doomed)
