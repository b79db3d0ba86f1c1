"""Tables of the analytics service: the learning record store's statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from kit.db import UTCDateTime, utcnow


class Statement(SQLModel, table=True):
    """One xAPI statement as stored; `body` is what GET returns (with `stored`, `authority`)."""

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_stored", "stored", "id"),)

    id: uuid.UUID = Field(primary_key=True)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The statement without the LRS's own stamps: what "the same statement" is compared on.
    fingerprint: str = Field(max_length=64)
    actor_key: str = Field(max_length=500, index=True)
    verb_id: str = Field(max_length=2000, index=True)
    activity_id: str | None = Field(default=None, max_length=2000, index=True)
    registration: str | None = Field(default=None, max_length=36, index=True)
    voided: bool = False
    authority: str = Field(max_length=255)
    stored: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
