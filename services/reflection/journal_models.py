"""The journal's API shapes: starting, answering and sharing reflections, their public form,
idea drafts from actions and preferences (tables are in models.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from kit.text import VISIBLE
from services.reflection.models import ReflectionStatus

# ---- reflections ----------------------------------------------------------------------------

# What a person wrote, for people to read: at least one visible character (kit/text.py).
Experience = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=10, max_length=4000), VISIBLE
]
AnswerText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), VISIBLE
]


class ReflectionStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experience: Experience = Field(description="What happened, in your own words.")
    process: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), VISIBLE] | None
    ) = None
    model: str = Field(default="what-so-what-now-what", max_length=40)
    language: Literal["nl", "en"] | None = Field(
        default=None, description="Detected from the experience when left out."
    )


class AnswerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(max_length=40, description="The key of the stage being answered.")
    answer: AnswerText


class Citation(BaseModel):
    id: str = Field(description="How the question or summary cites it: c1, c2 ...")
    readable: bool = Field(
        default=True,
        description="False: a passage of a document you may not open (now); then only `id` "
        "is shown, and chunk, document, title, section and text are empty.",
    )
    chunk_id: str | None
    document_id: uuid.UUID | None
    document_title: str | None
    section: list[str]
    text: str | None


class TurnPublic(BaseModel):
    stage: str
    title: str
    question: str
    citations: list[Citation]
    answer: str | None
    answer_id: str = Field(description="How a summary cites this answer: a1, a2 ...")
    engine: str
    notice: str | None
    stripped_citations: list[str] = Field(
        description="Citation ids the engine made up; removed from the question."
    )
    asked_at: datetime
    answered_at: datetime | None


class PointPublic(BaseModel):
    text: str
    citations: list[str]


class SummaryPublic(BaseModel):
    what_happened: str
    learning_points: list[PointPublic]
    actions: list[PointPublic]
    citations: list[Citation] = Field(description="Every passage shown during the reflection.")
    engine: str
    notice: str | None
    stripped_citations: list[str]


class IdeaLink(BaseModel):
    action: int
    idea_id: uuid.UUID


class ReflectionPublic(BaseModel):
    id: uuid.UUID
    model: str
    model_name: str
    language: str
    process: str | None
    experience: str
    status: ReflectionStatus
    is_mine: bool
    current_stage: str | None = Field(description="The stage waiting for an answer, if any.")
    stages: list[TurnPublic] = Field(description="Stages asked so far, in order.")
    remaining_stages: list[str]
    shared_with: list[str] = Field(description="Teams that may read it; empty means private.")
    summary: SummaryPublic | None
    ideas: list[IdeaLink]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ReflectionPage(BaseModel):
    items: list[ReflectionPublic]
    next_cursor: str | None


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teams: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=20, description="Your teams to share with; all when left out."
    )


class IdeaFromAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: StrictInt = Field(ge=0, le=20, description="Index into the summary's actions.")
    team: str | None = Field(
        default=None, max_length=64, description="Needed when you belong to several teams."
    )
    title: Annotated[str, StringConstraints(min_length=3, max_length=150), VISIBLE] | None = None


class IdeaDrafted(BaseModel):
    idea_id: uuid.UUID
    created: bool = Field(description="False when this action had already become an idea.")
    reflection: ReflectionPublic


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share_with_analytics: StrictBool = Field(
        description="False: analytics never learns that you reflected, not even as a count."
    )


class StagePublic(BaseModel):
    key: str
    purpose: str
    title: dict[str, str]
    question: dict[str, str]


class ReflectionModelPublic(BaseModel):
    key: str
    name: dict[str, str]
    description: dict[str, str]
    stages: list[StagePublic]
