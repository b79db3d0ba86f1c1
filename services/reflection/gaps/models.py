"""Tables of knowledge gaps and their (pseudonymous) askers, and the shapes the gap list answers.
A field both stored and shown is declared once, in GapBase, with a plain type (its column size is
its `sa_type`; see services/reflection/documents/models.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import AutoString, SQLModel
from sqlmodel import Field as SQLField

from kit.db import UTCDateTime, utcnow
from kit.openapi import SENT_IN_FULL


class GapBase(SQLModel):
    """A gap's words and counts: stored in `knowledge_gaps`, shown in GapPublic."""

    question: str = SQLField(
        sa_type=AutoString(300),
        description="The normalised words of the question, not a person's text.",
    )
    # Distinct askers, counted through keyed pseudonyms.
    people: int = SQLField(
        default=0, description="Different people who met it; never below the minimum."
    )
    occurrences: int = 0
    from_search: int = 0
    from_reflection: int = 0
    first_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)


class KnowledgeGap(GapBase, table=True):
    """A question the documents could not answer: its process and normalised words, no person."""

    __tablename__ = "knowledge_gaps"
    __table_args__ = (UniqueConstraint("process", "question"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    process: str = SQLField(default="", max_length=100, index=True)  # "" when none was named


class KnowledgeGapAsker(SQLModel, table=True):
    """Keyed pseudonym per (gap, person): counts people once without naming them; a pseudonym
    differs per gap, so two gaps cannot be linked to the same person."""

    __tablename__ = "knowledge_gap_askers"

    gap_id: uuid.UUID = SQLField(foreign_key="knowledge_gaps.id", primary_key=True)
    asker: str = SQLField(primary_key=True, max_length=64)


class GapPublic(GapBase):
    """A knowledge gap as the API shows it: no person, only counts."""

    model_config = SENT_IN_FULL

    process: str | None


class GapList(BaseModel):
    """The listed gaps and the minimum of people each was met by."""

    min_group_size: int
    gaps: list[GapPublic]
