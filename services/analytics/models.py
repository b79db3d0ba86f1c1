"""Tables of the analytics service: the learning record store's statements."""

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


class LrsClient(SQLModel, table=True):
    """A system that talks xAPI to this LRS (an LMS plugin, an HR system) with HTTP Basic."""

    __tablename__ = "lrs_clients"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    key: str = Field(max_length=64, unique=True, index=True)
    # scrypt of the secret; the secret itself is shown once, at creation, and never stored.
    secret_hash: str = Field(max_length=200)
    name: str = Field(max_length=200)
    active: bool = True
    # What it may read besides its own statements: "own" (nothing) or "read_all" (every
    # statement), granted by an admin; see services/analytics/scope.py.
    scope: str = Field(default="own", max_length=16, sa_column_kwargs={"server_default": "own"})
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class LearningFact(SQLModel, table=True):
    """What a statement means for the metrics, keyed by a pseudonym instead of the person.

    Made when a statement is stored (and removed when it is voided or its person erased), so
    metrics never read statement bodies."""

    __tablename__ = "learning_facts"

    statement_id: uuid.UUID = Field(primary_key=True)
    person: str = Field(max_length=64, index=True)  # HMAC of the actor, see kit/pseudonyms.py
    team: str = Field(max_length=64)  # "" when unknown
    process: str = Field(max_length=100)  # "" when none
    week: str = Field(max_length=10)  # the ISO week's Monday, YYYY-MM-DD
    month: str = Field(max_length=7, index=True)  # YYYY-MM of the week's Thursday
    kind: str = Field(max_length=30)
    informal: bool = True  # False: formal learning reported by an LMS
    decision_days: float | None = None
    hours_saved: float | None = None
    work_pressure: float | None = None
    wellbeing: float | None = None


class PersonTeam(SQLModel, table=True):
    """A pseudonymous person's last known team, for statements (from an LMS) that carry none."""

    __tablename__ = "person_teams"

    person: str = Field(primary_key=True, max_length=64)
    team: str = Field(max_length=64)


class MetricMonth(SQLModel, table=True):
    """A month whose cells must be rebuilt before they are read (new, voided or erased facts)."""

    __tablename__ = "metric_months"

    month: str = Field(primary_key=True, max_length=7)
    dirty: bool = True


class MetricCell(SQLModel, table=True):
    """One published-or-suppressed number set: a period (week or month), a team and a process, where
    "*" means all. Built per month with the small-group and differencing rules applied."""

    __tablename__ = "metric_cells"

    period: str = Field(primary_key=True, max_length=12)  # W2026-11-16 or M2026-11
    team: str = Field(primary_key=True, max_length=64)
    process: str = Field(primary_key=True, max_length=100)
    month: str = Field(max_length=7, index=True)
    people: int
    suppressed: bool
    values: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


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
