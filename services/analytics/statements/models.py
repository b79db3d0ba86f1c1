"""Tables of the learning record store: statements as stored and the attachment content they
refer to (xAPI 1.0.3). The API shapes are xAPI's own JSON, checked by validation.py, so there is
no Create/Public family here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
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


class Attachment(SQLModel, table=True):
    """Attachment content sent with statements (multipart/mixed), stored once per hash."""

    __tablename__ = "attachments"

    sha2: str = Field(primary_key=True, max_length=128)
    content_type: str = Field(max_length=255)
    length: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class StatementAttachment(SQLModel, table=True):
    """Which stored statement refers to which attachment content."""

    __tablename__ = "statement_attachments"

    statement_id: uuid.UUID = Field(primary_key=True)
    sha2: str = Field(primary_key=True, max_length=128, index=True)
