"""Tables of the analytics service: LRS clients and the learning metrics."""

from __future__ import annotations

import uuid
from datetime import datetime

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
