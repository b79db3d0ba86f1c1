"""The types more than one domain shows, so that no domain module imports another in a circle.

An idea links the reflection it came from (`Idea.sourceReflection`) and a reflection the ideas
drafted from it (`ReflectionIdeaLink.idea`): the two families refer to each other, so both live
here, with the REST → GraphQL converters every domain uses. Documents stand below them
(gateway/schema/documents.py), and Relay page information below all (connections.py).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.documents import Document, document_from


@strawberry.enum(description="Where an idea stands in the review workflow.")
class IdeaStatus(Enum):
    """Where an idea stands in the review workflow (services/ideas' statuses)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    PILOTING = "piloting"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"
    PARKED = "parked"
    WITHDRAWN = "withdrawn"


@strawberry.type(description="A person as shown to others.")
class Person:
    """A person as others see them: subject and display name."""

    subject: str = strawberry.field(description="Stable id of the person.")
    name: str = strawberry.field(description="Display name.")


@strawberry.type(
    description="Effect of an idea on the work; scales run from -2 (much worse) to +2."
)
class Impact:
    """An idea's effect: hours saved per week, one-off cost in euros, and -2..+2 scales."""

    hours_saved_per_week: float | None = strawberry.field(description="Working hours saved weekly.")
    cost_eur: float | None = strawberry.field(description="One-off cost in euros.")
    quality: int | None = strawberry.field(description="Effect on quality, -2..+2.")
    safety: int | None = strawberry.field(description="Effect on safety, -2..+2.")
    work_pressure: int | None = strawberry.field(description="Effect on work pressure, -2..+2.")
    wellbeing: int | None = strawberry.field(description="Effect on well-being, -2..+2.")
    notes: str | None = strawberry.field(description="Free text.")


def _impact(data: dict[str, Any] | None) -> Impact | None:
    if not data:
        return None
    fields = (
        "hours_saved_per_week",
        "cost_eur",
        "quality",
        "safety",
        "work_pressure",
        "wellbeing",
        "notes",
    )
    return Impact(**{f: data.get(f) for f in fields})


@strawberry.type(description="An improvement idea about one's own work.")
class Idea:
    """An idea as the ideas service shows it to the caller, with links to documents and the
    reflection it came from."""

    id: strawberry.ID = strawberry.field(description="The idea's UUID.")
    title: str = strawberry.field(description="Short title, 3-200 characters.")
    problem: str = strawberry.field(description="What goes wrong today.")
    proposal: str = strawberry.field(description="What the author proposes.")
    team: str = strawberry.field(description="Key of the team whose process it is about.")
    tags: list[str] = strawberry.field(description="Process tags.")
    anonymous: bool = strawberry.field(description="The author chose not to be named.")
    author: Person | None = strawberry.field(
        description="Null for anonymous ideas, except to the author."
    )
    is_mine: bool = strawberry.field(description="You are the author.")
    status: IdeaStatus = strawberry.field(description="Workflow status.")
    status_reason: str | None = strawberry.field(description="Public reason of the last move.")
    created_at: datetime = strawberry.field(description="When it was captured.")
    updated_at: datetime = strawberry.field(description="Last change of content or status.")
    submitted_at: datetime | None = strawberry.field(description="When it was submitted.")
    version: int = strawberry.field(description="Pass as `expectedVersion` to updateIdea.")
    support_count: int = strawberry.field(description="How many colleagues support it.")
    comment_count: int = strawberry.field(description="Comments not deleted.")
    follower_count: int = strawberry.field(description="How many people follow it.")
    supported_by_me: bool = strawberry.field(description="You support it.")
    following: bool = strawberry.field(description="You follow it.")
    expected_impact: Impact | None = strawberry.field(description="Projected effect.")
    realized_impact: Impact | None = strawberry.field(description="Measured effect.")
    reflection_ids: list[strawberry.ID] = strawberry.field(description="Linked reflections.")
    document_ids: list[strawberry.ID] = strawberry.field(description="Linked process documents.")

    @strawberry.field(
        description="The linked process documents you may read. Null (with an error naming "
        "the service) when the reflection service is unavailable; one call per page of ideas."
    )
    async def linked_documents(self, info: Info[Context, None]) -> list[Document] | None:
        """The linked documents the caller may read, in one call per page of ideas (the
        request's loader). Raises GraphQLError SERVICE_UNAVAILABLE or UPSTREAM_REFUSED when
        the reflection service does not answer or refuses."""
        found = await info.context.loaders.documents.load_many([str(i) for i in self.document_ids])
        return [document_from(d) for d in found if d is not None]

    @strawberry.field(
        description="The reflection this idea came from, when you may read it (yours, or "
        "shared with your team)."
    )
    async def source_reflection(self, info: Info[Context, None]) -> Reflection | None:
        """The first linked reflection when the caller may read it, else None. Raises
        GraphQLError as linkedDocuments does."""
        if not self.reflection_ids:
            return None
        found = await info.context.loaders.reflections.load(str(self.reflection_ids[0]))
        return reflection_from(found) if found is not None else None


def idea_from(data: dict[str, Any]) -> Idea:
    """The Idea for a REST idea (a dict); raises KeyError when a required key is missing."""
    author = data.get("author")
    return Idea(
        id=strawberry.ID(data["id"]),
        title=data["title"],
        problem=data["problem"],
        proposal=data["proposal"],
        team=data["team"],
        tags=list(data["tags"]),
        anonymous=data["anonymous"],
        author=Person(subject=author["subject"], name=author["name"]) if author else None,
        is_mine=data["is_mine"],
        status=IdeaStatus(data["status"]),
        status_reason=data.get("status_reason"),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        submitted_at=datetime.fromisoformat(data["submitted_at"])
        if data.get("submitted_at")
        else None,
        version=data["version"],
        support_count=data["support_count"],
        comment_count=data["comment_count"],
        follower_count=data["follower_count"],
        supported_by_me=data["supported_by_me"],
        following=data["following"],
        expected_impact=_impact(data.get("expected_impact")),
        realized_impact=_impact(data.get("realized_impact")),
        reflection_ids=[strawberry.ID(i) for i in data["reflection_ids"]],
        document_ids=[strawberry.ID(i) for i in data["document_ids"]],
    )


@strawberry.enum(description="Where a reflection is.")
class ReflectionStatus(Enum):
    """Open (stages still to answer) or finished."""

    OPEN = "open"
    FINISHED = "finished"


@strawberry.type(
    description="A passage of a process document shown with a question. When you may not open "
    "its document (now), only `id` is shown and `readable` is false: a passage you cannot open."
)
class Citation:
    """A passage shown with a question; only `id` and `readable` False when the caller may not
    open its document."""

    id: str = strawberry.field(description="How questions and summaries cite it: c1, c2 ...")
    readable: bool = strawberry.field(
        description="False: a passage of a document you may not open; the fields below are empty."
    )
    chunk_id: strawberry.ID | None = strawberry.field(
        description="The passage (search citation id)."
    )
    document_id: strawberry.ID | None = strawberry.field(description="Its document.")
    document_title: str | None = strawberry.field(description="The document's title.")
    section: list[str] = strawberry.field(description="Heading path.")
    text: str | None = strawberry.field(description="The passage.")

    @strawberry.field(description="The document, when you may still read it.")
    async def document(self, info: Info[Context, None]) -> Document | None:
        """The cited document when the caller may still read it, else None. Raises
        GraphQLError as Idea.linkedDocuments does."""
        if self.document_id is None:
            return None
        found = await info.context.loaders.documents.load(str(self.document_id))
        return document_from(found) if found is not None else None


def citation_from(data: dict[str, Any]) -> Citation:
    """The REST citation as it came: the reflection service already withheld what the reader
    may not open (services/reflection/access.py); nothing is added here."""
    chunk_id, document_id = data.get("chunk_id"), data.get("document_id")
    return Citation(
        id=data["id"],
        readable=bool(data.get("readable", True)),
        chunk_id=strawberry.ID(chunk_id) if chunk_id is not None else None,
        document_id=strawberry.ID(document_id) if document_id is not None else None,
        document_title=data.get("document_title"),
        section=list(data.get("section") or []),
        text=data.get("text"),
    )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _points(items: list[dict[str, Any]]) -> list[SummaryPoint]:
    return [SummaryPoint(text=p["text"], citations=list(p["citations"])) for p in items]


@strawberry.type(description="One stage asked: question, sources and the worker's answer.")
class ReflectionStage:
    """One stage asked: question, citations, the answer once given, and when (datetimes)."""

    stage: str = strawberry.field(description="The stage key.")
    title: str = strawberry.field(description="The stage title, in the reflection's language.")
    question: str = strawberry.field(description="The question, citing [c1] ... sources.")
    citations: list[Citation] = strawberry.field(description="The sources shown with it.")
    answer: str | None = strawberry.field(description="The worker's answer, once given.")
    answer_id: str = strawberry.field(description="How the summary cites this answer: a1 ...")
    engine: str = strawberry.field(description="guided or llm.")
    notice: str | None = strawberry.field(description="E.g. the language model fell back.")
    stripped_citations: list[str] = strawberry.field(
        description="Citation ids the engine made up, removed from the question."
    )
    asked_at: datetime = strawberry.field(description="When it was asked.")
    answered_at: datetime | None = strawberry.field(description="When it was answered.")


@strawberry.type(description="A learning point or action with what it rests on.")
class SummaryPoint:
    """A learning point or action with the answer and source ids it rests on."""

    text: str = strawberry.field(description="The point.")
    citations: list[str] = strawberry.field(description="Answer (a1) or source (c1) ids.")


@strawberry.type(description="What a finished reflection comes to.")
class ReflectionSummary:
    """What a finished reflection comes to: what happened, learning points, actions, sources."""

    what_happened: str = strawberry.field(description="The experience, in the worker's words.")
    learning_points: list[SummaryPoint] = strawberry.field(description="What was learned.")
    actions: list[SummaryPoint] = strawberry.field(description="What will be done differently.")
    citations: list[Citation] = strawberry.field(description="Every source shown.")
    engine: str = strawberry.field(description="guided or llm.")
    notice: str | None = strawberry.field(description="E.g. the language model fell back.")
    stripped_citations: list[str] = strawberry.field(description="Made-up ids, removed.")


@strawberry.type(description="An idea drafted from one of the reflection's actions.")
class ReflectionIdeaLink:
    """An idea drafted from the summary's action at index `action`."""

    action: int = strawberry.field(description="Index of the action in the summary.")
    idea_id: strawberry.ID = strawberry.field(description="The idea.")

    @strawberry.field(description="The idea itself, when you may read it.")
    async def idea(self, info: Info[Context, None]) -> Idea | None:
        """The idea when the caller may read it, else None (the request's loader). Raises
        GraphQLError SERVICE_UNAVAILABLE or UPSTREAM_REFUSED when the ideas service does not
        answer or refuses."""
        found = await info.context.loaders.ideas.load(str(self.idea_id))
        return idea_from(found) if found is not None else None


@strawberry.type(description="A reflection: private to its author unless shared with a team.")
class Reflection:
    """A reflection as the reflection service shows it to the caller (private unless shared)."""

    id: strawberry.ID = strawberry.field(description="The reflection's UUID.")
    model: str = strawberry.field(description="The reflection model's key.")
    model_name: str = strawberry.field(description="Its name in the reflection's language.")
    language: str = strawberry.field(description="nl or en.")
    process: str | None = strawberry.field(description="The process it is about, if named.")
    experience: str = strawberry.field(description="What happened, in the worker's words.")
    status: ReflectionStatus = strawberry.field(description="Open or finished.")
    is_mine: bool = strawberry.field(description="False when it was shared with you.")
    current_stage: str | None = strawberry.field(description="The stage waiting for an answer.")
    stages: list[ReflectionStage] = strawberry.field(description="Stages asked so far.")
    remaining_stages: list[str] = strawberry.field(description="Stages still to come.")
    shared_with: list[str] = strawberry.field(description="Teams that may read it.")
    summary: ReflectionSummary | None = strawberry.field(description="Once finished.")
    ideas: list[ReflectionIdeaLink] = strawberry.field(description="Ideas drafted from it.")
    created_at: datetime = strawberry.field(description="Started.")
    updated_at: datetime = strawberry.field(description="Last change.")
    finished_at: datetime | None = strawberry.field(description="Finished.")


def reflection_from(data: dict[str, Any]) -> Reflection:
    """The Reflection for a REST reflection (a dict); raises KeyError when a required key is
    missing."""
    summary = data.get("summary")
    return Reflection(
        id=strawberry.ID(data["id"]),
        model=data["model"],
        model_name=data["model_name"],
        language=data["language"],
        process=data.get("process"),
        experience=data["experience"],
        status=ReflectionStatus(data["status"]),
        is_mine=data["is_mine"],
        current_stage=data.get("current_stage"),
        stages=[
            ReflectionStage(
                stage=t["stage"],
                title=t["title"],
                question=t["question"],
                citations=[citation_from(c) for c in t["citations"]],
                answer=t.get("answer"),
                answer_id=t["answer_id"],
                engine=t["engine"],
                notice=t.get("notice"),
                stripped_citations=list(t["stripped_citations"]),
                asked_at=datetime.fromisoformat(t["asked_at"]),
                answered_at=_when(t.get("answered_at")),
            )
            for t in data["stages"]
        ],
        remaining_stages=list(data["remaining_stages"]),
        shared_with=list(data["shared_with"]),
        summary=ReflectionSummary(
            what_happened=summary["what_happened"],
            learning_points=_points(summary["learning_points"]),
            actions=_points(summary["actions"]),
            citations=[citation_from(c) for c in summary["citations"]],
            engine=summary["engine"],
            notice=summary.get("notice"),
            stripped_citations=list(summary["stripped_citations"]),
        )
        if summary
        else None,
        ideas=[
            ReflectionIdeaLink(action=i["action"], idea_id=strawberry.ID(i["idea_id"]))
            for i in data["ideas"]
        ],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        finished_at=_when(data.get("finished_at")),
    )
