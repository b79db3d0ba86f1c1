"""The journal's tables and API shapes: a reflection, its stages, the teams it is shared with and
its author's privacy choice, and what the API reads and writes about them.

A field that is both stored and shown is declared once, in a base the table and the public shape
inherit (`ReflectionBase`, `TurnBase`, `GuidedBy`), with plain types and column sizes as `sa_type`
(see services/reflection/documents/models.py); those public shapes use
`kit.openapi.SENT_IN_FULL`. Input shapes (`ReflectionStart`, `AnswerCreate`, ...) declare their
own, narrower rules: what a caller may send is stricter than what is stored
(docs/architecture.md, "Inputs are strictly typed JSON").
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StringConstraints
from pydantic import Field as ApiField
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from kit.db import UTCDateTime, utcnow
from kit.openapi import SENT_IN_FULL
from kit.text import VISIBLE


class ReflectionStatus(StrEnum):
    """Where a reflection stands: `open` while stages remain (it can be left and resumed at any
    time), `finished` once summarised."""

    open = "open"
    finished = "finished"


# ---- shared fields --------------------------------------------------------------------------


class ReflectionBase(SQLModel):
    """What a reflection is about and when it changed: stored in `reflections`, shown in
    `ReflectionPublic`."""

    language: str = Field(sa_type=AutoString(8))
    process: str | None = Field(default=None, sa_type=AutoString(100))
    experience: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class GuidedBy(SQLModel):
    """Which engine wrote a question or a summary, and what it had to be corrected for."""

    engine: str = Field(sa_type=AutoString(20))
    notice: str | None = Field(default=None, sa_type=AutoString(300))
    stripped_citations: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="Citation ids the engine made up; removed from its text.",
    )


class TurnBase(GuidedBy):
    """One stage as asked and answered: stored in `reflection_turns`, shown in `TurnPublic`."""

    question: str = Field(sa_column=Column(Text, nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    asked_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---- tables ---------------------------------------------------------------------------------


class Reflection(ReflectionBase, table=True):
    """One worker's reflection: private to its author unless shared with a team."""

    __tablename__ = "reflections"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    author_id: str = Field(max_length=255, index=True)
    model_key: str = Field(max_length=40)
    status: str = Field(default=ReflectionStatus.open.value, max_length=20)
    # The stage waiting for an answer; equal to the number of stages once all are answered.
    stage_index: int = 0
    passages_shown: int = 0  # numbers the citations c1, c2 ... across the whole reflection
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # [{"action": 0, "idea_id": "..."}]: ideas drafted from this reflection's actions.
    ideas: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ReflectionTurn(TurnBase, table=True):
    """One stage: the question asked, the passages shown with it, and the worker's answer."""

    __tablename__ = "reflection_turns"
    __table_args__ = (UniqueConstraint("reflection_id", "stage_index"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reflection_id: uuid.UUID = Field(foreign_key="reflections.id", index=True)
    stage_index: int
    stage_key: str = Field(max_length=40)
    passages: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))


class ReflectionShare(SQLModel, table=True):
    """A team the author shared a reflection with; deleting the row revokes it."""

    __tablename__ = "reflection_shares"

    reflection_id: uuid.UUID = Field(foreign_key="reflections.id", primary_key=True)
    team: str = Field(primary_key=True, max_length=64, index=True)
    shared_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class ReflectionPreference(SQLModel, table=True):
    """A person's privacy choice; no row means the default (analytics may count them)."""

    __tablename__ = "reflection_preferences"

    subject: str = Field(primary_key=True, max_length=255)
    # False: analytics never learns that this person reflected.
    share_with_analytics: bool = True


# ---- what callers send ----------------------------------------------------------------------

# What a person wrote, for people to read: at least one visible character (kit/text.py).
Experience = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000), VISIBLE
]
AnswerText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), VISIBLE
]


class ReflectionStart(BaseModel):
    """`POST /v1/reflections`: an experience to reflect on; unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")

    experience: Experience = ApiField(description="What happened, in your own words.")
    process: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), VISIBLE] | None
    ) = None
    model: str = ApiField(default="what-so-what-now-what", max_length=40)
    language: Literal["nl", "en"] | None = ApiField(
        default=None, description="Detected from the experience when left out."
    )


class AnswerCreate(BaseModel):
    """`POST /v1/reflections/{id}/answers`: the answer to the stage named by its key."""

    model_config = ConfigDict(extra="forbid")

    stage: str = ApiField(max_length=40, description="The key of the stage being answered.")
    answer: AnswerText


class ShareRequest(BaseModel):
    """`PUT /v1/reflections/{id}/share`: the teams to share with (all of yours when left out)."""

    model_config = ConfigDict(extra="forbid")

    teams: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = ApiField(
        default=None, max_length=20, description="Your teams to share with; all when left out."
    )


class IdeaFromAction(BaseModel):
    """`POST /v1/reflections/{id}/ideas`: which summary action becomes an idea draft."""

    model_config = ConfigDict(extra="forbid")

    action: StrictInt = ApiField(ge=0, le=20, description="Index into the summary's actions.")
    team: str | None = ApiField(
        default=None, max_length=64, description="Needed when you belong to several teams."
    )
    title: Annotated[str, StringConstraints(min_length=3, max_length=150), VISIBLE] | None = None


class Preferences(BaseModel):
    """`/v1/reflection-preferences`, read and written: a person's privacy choice."""

    model_config = ConfigDict(extra="forbid")

    share_with_analytics: StrictBool = ApiField(
        description="False: analytics never learns that you reflected, not even as a count."
    )


# ---- what the API shows ---------------------------------------------------------------------


class Citation(BaseModel):
    """A passage shown with a question, as its reader may see it (presenting.citation)."""

    id: str = ApiField(description="How the question or summary cites it: c1, c2 ...")
    readable: bool = ApiField(
        default=True,
        description="False: a passage of a document you may not open (now); then only `id` "
        "is shown, and chunk, document, title, section and text are empty.",
    )
    chunk_id: str | None
    document_id: uuid.UUID | None
    document_title: str | None
    section: list[str]
    text: str | None


class TurnPublic(TurnBase):
    """One stage as its reader may see it."""

    model_config = SENT_IN_FULL

    stage: str
    title: str
    citations: list[Citation]
    answer_id: str = ApiField(description="How a summary cites this answer: a1, a2 ...")


class PointPublic(BaseModel):
    """A learning point or an action of a summary, with the ids it cites (a1, c2 ...)."""

    text: str
    citations: list[str]


class SummaryPublic(GuidedBy):
    """A finished reflection's summary as its reader may see it."""

    model_config = SENT_IN_FULL

    what_happened: str
    learning_points: list[PointPublic]
    actions: list[PointPublic]
    citations: list[Citation] = ApiField(description="Every passage shown during the reflection.")


class IdeaLink(BaseModel):
    """An idea drafted from summary action `action`."""

    action: int
    idea_id: uuid.UUID


class ReflectionPublic(ReflectionBase):
    """A reflection as its reader (its author, or a member of a team it is shared with) may see
    it: passages of documents the reader may not open are withheld (presenting.py)."""

    model_config = SENT_IN_FULL

    id: uuid.UUID
    model: str
    model_name: str
    status: ReflectionStatus
    is_mine: bool
    current_stage: str | None = ApiField(description="The stage waiting for an answer, if any.")
    stages: list[TurnPublic] = ApiField(description="Stages asked so far, in order.")
    remaining_stages: list[str]
    shared_with: list[str] = ApiField(description="Teams that may read it; empty means private.")
    summary: SummaryPublic | None
    ideas: list[IdeaLink]


class ReflectionPage(BaseModel):
    """One page of a reflection list, newest first; `next_cursor` is null on the last page."""

    items: list[ReflectionPublic]
    next_cursor: str | None


class IdeaDrafted(BaseModel):
    """The answer to turning an action into an idea draft."""

    idea_id: uuid.UUID
    created: bool = ApiField(description="False when this action had already become an idea.")
    reflection: ReflectionPublic


class StagePublic(BaseModel):
    """One stage of a reflection model, with its title and question in every language."""

    key: str
    purpose: str
    title: dict[str, str]
    question: dict[str, str]


class ReflectionModelPublic(BaseModel):
    """A reflection model a worker may choose, in every language."""

    key: str
    name: dict[str, str]
    description: dict[str, str]
    stages: list[StagePublic]
