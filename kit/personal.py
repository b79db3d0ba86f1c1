"""Helpers for a person's right to erasure, shared by every service that keeps JSON documents
(outbox messages, webhook payloads) which may name someone.

A person is named by their subject under one of the keys the service passes in (an xAPI
account's `name`, a payload's `subject`, a person column's name): kit knows no service's
payloads. Finding is two-step: a portable text match narrows the rows, an exact walk through the
JSON decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.outbox import OutboxMessage

ERASED = "erased"
ERASED_NAME = "(erased)"


def names(value: Any, subject: str, keys: Sequence[str]) -> bool:
    """Whether the JSON `value` holds `subject` under one of `keys`, at any depth."""
    if isinstance(value, dict):
        if any(value.get(key) == subject for key in keys):
            return True
        return any(names(item, subject, keys) for item in value.values())
    if isinstance(value, list):
        return any(names(item, subject, keys) for item in value)
    return False


def scrub(value: Any, subject: str, keys: Sequence[str]) -> Any:
    """The same JSON with every object that names the person under one of `keys` scrubbed:
    each value equal to `subject` becomes `ERASED`, its `name` becomes `ERASED_NAME`."""
    if isinstance(value, dict):
        if any(value.get(key) == subject for key in keys):
            return {
                key: ERASED if item == subject else (ERASED_NAME if key == "name" else item)
                for key, item in value.items()
            }
        return {key: scrub(item, subject, keys) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, subject, keys) for item in value]
    return value


def like_json(column: Any, subject: str) -> Any:
    """A SQL condition: the JSON `column`, as text, contains `subject` (LIKE, wildcards
    escaped). It narrows rows on every back end; `names` decides."""
    escaped = subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return cast(column, Text).like(f"%{escaped}%", escape="\\")


async def forget_in_outbox(session: AsyncSession, subject: str, keys: Sequence[str]) -> int:
    """Delete outbox messages (sent or not) that name the person under one of `keys`; returns
    how many. Flushes in the caller's transaction, never commits."""
    rows = await session.exec(
        select(OutboxMessage).where(like_json(col(OutboxMessage.payload), subject))
    )
    doomed = [row.id for row in rows.all() if names(row.payload, subject, keys)]
    if doomed:
        await session.exec(delete(OutboxMessage).where(col(OutboxMessage.id).in_(doomed)))
    return len(doomed)
