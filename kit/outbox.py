"""The transactional outbox: facts for other services, written in the same transaction as the
change they describe, so a change and its event are kept or lost together.

A relay delivers pending messages later (at least once); the receiver is idempotent on the
message id (for xAPI statements, the statement id).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """One fact for another service (`payload`, e.g. an xAPI statement), kept until delivered:
    attempts, the next attempt's time, and when it was delivered or dead-lettered."""

    __tablename__ = "outbox"

    id: uuid.UUID = Field(primary_key=True)
    topic: str = Field(max_length=64, index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)


def enqueue(
    session: AsyncSession, topic: str, message_id: uuid.UUID, payload: dict[str, Any]
) -> None:
    """Add a message to the caller's transaction; it is sent only if the transaction commits."""
    session.add(OutboxMessage(id=message_id, topic=topic, payload=payload))
