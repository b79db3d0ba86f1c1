"""The LRS client table and its API shapes (`ClientCreate` in, `ClientPublic` out).

The shapes stay plain pydantic models beside the table rather than sharing a SQLModel base: the
request's `name` is stricter than the column (visible text, stripped, at least one character)
and `scope` is a closed choice, and the table's column types must stay what the migrations made.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as Described
from sqlmodel import Field, SQLModel

from kit.db import UTCDateTime, utcnow
from kit.text import VISIBLE
from services.analytics.statements.scope import OWN

KEY_PATTERN = r"^lrs_[0-9a-f]{16}$"  # "lrs_" and 16 hex digits


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
    scope: str = Field(default=OWN, max_length=16, sa_column_kwargs={"server_default": OWN})
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ClientCreate(BaseModel):
    """`POST /v1/lrs-clients`: a visible name and what the client may read."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), VISIBLE]
    scope: Literal["own", "read_all"] = Described(
        default="own",
        description="own: the client reads only its own statements; read_all: every statement "
        "(voiding stays limited to its own).",
    )


class ClientPublic(BaseModel):
    """An LRS client as admins see it; `secret` only in the answer that made it."""

    key: str
    name: str
    active: bool
    scope: str = OWN
    secret: str | None = Described(default=None, description="Shown once, when the client is made.")
