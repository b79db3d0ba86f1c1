"""Tables of the analytics service: LRS clients and the learning metrics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from kit.db import UTCDateTime, utcnow


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
    # statement), granted by an admin; see services/analytics/statements/scope.py.
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
