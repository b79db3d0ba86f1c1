"""Tables of the analytics service: the learning record store's statements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
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
    # "|key|key|" lists for the related_agents / related_activities queries, matched with a
    # portable LIKE on SQLite and PostgreSQL.
    related_agents: str = Field(default="||", sa_column=Column(Text, nullable=False))
    related_activities: str = Field(default="||", sa_column=Column(Text, nullable=False))
    voided: bool = False
    authority: str = Field(max_length=255)
    stored: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class LrsClient(SQLModel, table=True):
    """A system that talks xAPI to this LRS (an LMS plugin, an HR system) with HTTP Basic."""

    __tablename__ = "lrs_clients"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    # scrypt of the secret; the secret itself is shown once, at creation, and never stored.
    secret_hash: str = Field(max_length=200)
    name: str = Field(max_length=200)
    active: bool = True
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
