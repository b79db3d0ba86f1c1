"""Tables of knowledge gaps and their (pseudonymous) askers, and the shapes the gap list answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from kit.db import UTCDateTime, utcnow


class KnowledgeGap(SQLModel, table=True):
    """A question the documents could not answer: its process and normalised words, no person."""

    __tablename__ = "knowledge_gaps"
    __table_args__ = (UniqueConstraint("process", "question"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    process: str = SQLField(default="", max_length=100, index=True)  # "" when none was named
    question: str = SQLField(max_length=300)
    occurrences: int = 0
    people: int = 0  # distinct askers, counted through keyed pseudonyms
    from_search: int = 0
    from_reflection: int = 0
    first_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)


class KnowledgeGapAsker(SQLModel, table=True):
    """Keyed pseudonym per (gap, person): counts people once without naming them; a pseudonym
    differs per gap, so two gaps cannot be linked to the same person."""

    __tablename__ = "knowledge_gap_askers"

    gap_id: uuid.UUID = SQLField(foreign_key="knowledge_gaps.id", primary_key=True)
    asker: str = SQLField(primary_key=True, max_length=64)


class GapPublic(BaseModel):
    """A knowledge gap as the API shows it: no person, only counts."""

    process: str | None
    question: str = Field(description="The normalised words of the question, not a person's text.")
    people: int = Field(description="Different people who met it; never below the minimum.")
    occurrences: int
    from_search: int
    from_reflection: int
    first_seen: datetime
    last_seen: datetime


class GapList(BaseModel):
    """The listed gaps and the minimum of people each was met by."""

    min_group_size: int
    gaps: list[GapPublic]
