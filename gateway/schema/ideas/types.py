"""The ideas domain's own GraphQL types: list order, filter and connection, duplicates, comments,
the inputs of the mutations and their result unions, with the REST → GraphQL converters. The
Idea type itself links reflections, so it lives in gateway/schema/shared.py."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from gateway.schema.connections import Connection, Edge, connection_for, connection_of_page
from gateway.schema.errors import ExpectedError, UnversionedError
from gateway.schema.shared import Idea, IdeaStatus, Person, idea_from


@strawberry.enum(description="Order of an idea list.")
class IdeaSort(Enum):
    """Orders of an idea list, as the ideas service names them."""

    NEWEST = "newest"
    MOST_SUPPORTED = "most_supported"
    RECENTLY_UPDATED = "recently_updated"


@strawberry.input(description="Effect of an idea on the work; scales run from -2 to +2.")
class ImpactInput:
    """Expected or realised impact to write; fields left out stay unset."""

    hours_saved_per_week: float | None = strawberry.field(default=None, description="Hours/week.")
    cost_eur: float | None = strawberry.field(default=None, description="One-off cost in euros.")
    quality: int | None = strawberry.field(default=None, description="-2..+2")
    safety: int | None = strawberry.field(default=None, description="-2..+2")
    work_pressure: int | None = strawberry.field(default=None, description="-2..+2")
    wellbeing: int | None = strawberry.field(default=None, description="-2..+2")
    notes: str | None = strawberry.field(default=None, description="Free text.")


@connection_for(
    Idea,
    edges="The ideas with their cursors.",
    edge="One idea in a list, with the cursor that resumes after it.",
)
class IdeaConnection(Connection[Edge[Idea]]):
    """A page of ideas, each with the service's cursor after it."""


@strawberry.input(description="Which ideas to list; all given conditions must hold.")
class IdeaFilter:
    """Conditions of an idea list; all that are given must hold."""

    status: list[IdeaStatus] | None = strawberry.field(default=None, description="Any of these.")
    team: str | None = strawberry.field(default=None, description="Team key.")
    tag: str | None = strawberry.field(default=None, description="Process tag.")
    mine: bool = strawberry.field(default=False, description="Only your own ideas.")
    following: bool = strawberry.field(default=False, description="Only ideas you follow.")
    search: str | None = strawberry.field(default=None, description="Words that must all occur.")


@strawberry.type(description="An existing idea that resembles a draft.")
class SimilarIdea:
    """One existing idea that resembles a draft, with its relevance score."""

    idea_id: strawberry.ID = strawberry.field(description="The existing idea.")
    title: str = strawberry.field(description="Its title.")
    status: IdeaStatus = strawberry.field(description="Its status.")
    support_count: int = strawberry.field(description="Its support.")
    score: float = strawberry.field(description="Relevance, higher is more alike.")
    matched_by: list[str] = strawberry.field(description="`lexical`, `semantic` or both.")


@strawberry.type(description="Likely duplicates, best first.")
class SimilarIdeas:
    """Likely duplicates, best first; `semantic` False when only words were compared."""

    items: list[SimilarIdea] = strawberry.field(description="The candidates.")
    semantic: bool = strawberry.field(description="False when only word matching was possible.")


@strawberry.type(description="A comment on an idea.")
class Comment:
    """A comment on an idea; `body` None once deleted, `author` None for the anonymous author."""

    id: strawberry.ID = strawberry.field(description="The comment's UUID.")
    idea_id: strawberry.ID = strawberry.field(description="The idea it belongs to.")
    parent_id: strawberry.ID | None = strawberry.field(description="The comment it replies to.")
    author: Person | None = strawberry.field(description="Null when the anonymous author wrote it.")
    by_idea_author: bool = strawberry.field(description="Written by the idea's author.")
    body: str | None = strawberry.field(description="Null once deleted.")
    deleted: bool = strawberry.field(description="Soft-deleted.")
    created_at: datetime = strawberry.field(description="When it was written.")


@strawberry.input(description="A new idea.")
class SubmitIdeaInput:
    """A new idea; `draft` keeps it as a draft instead of submitting it."""

    title: str = strawberry.field(description="3-200 characters.")
    problem: str = strawberry.field(description="What goes wrong today.")
    team: str = strawberry.field(description="Team key.")
    proposal: str = strawberry.field(default="", description="What you propose.")
    tags: list[str] = strawberry.field(default_factory=list, description="Process tags.")
    anonymous: bool = strawberry.field(default=False, description="Hide your name from others.")
    expected_impact: ImpactInput | None = strawberry.field(default=None, description="Projection.")
    reflection_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Links."
    )
    document_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Links.")
    draft: bool = strawberry.field(
        default=False, description="Keep as a draft instead of submitting."
    )


@strawberry.input(description="Fields to change; omitted fields stay as they are.")
class UpdateIdeaInput:
    """Fields of an idea to change; omitted fields stay as they are."""

    title: str | None = strawberry.field(default=None, description="3-200 characters.")
    problem: str | None = strawberry.field(default=None, description="What goes wrong today.")
    proposal: str | None = strawberry.field(default=None, description="What you propose.")
    tags: list[str] | None = strawberry.field(default=None, description="Process tags.")
    expected_impact: ImpactInput | None = strawberry.field(default=None, description="Projection.")
    realized_impact: ImpactInput | None = strawberry.field(default=None, description="Measured.")
    reflection_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Links."
    )
    document_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Links.")


IdeaResult = Annotated[
    Idea | ExpectedError,
    strawberry.union("IdeaResult", description="The idea, or why the change was refused."),
]


CommentResult = Annotated[
    Comment | UnversionedError,
    strawberry.union("CommentResult", description="The comment, or why it was refused."),
]


def idea_page_from(body: dict[str, Any]) -> IdeaConnection:
    """The IdeaConnection for a REST page ({items, cursors, next_cursor}); raises ValueError
    when items and cursors differ in number."""
    return connection_of_page(IdeaConnection, IdeaConnection.edge_type, idea_from, body)


def similar_from(body: dict[str, Any]) -> SimilarIdeas:
    """SimilarIdeas for the REST answer ({items, semantic})."""
    return SimilarIdeas(
        semantic=body["semantic"],
        items=[
            SimilarIdea(
                idea_id=strawberry.ID(i["id"]),
                title=i["title"],
                status=IdeaStatus(i["status"]),
                support_count=i["support_count"],
                score=i["score"],
                matched_by=list(i["matched_by"]),
            )
            for i in body["items"]
        ],
    )


def comment_from(data: dict[str, Any]) -> Comment:
    """The Comment for a REST comment (a dict)."""
    author = data.get("author")
    return Comment(
        id=strawberry.ID(data["id"]),
        idea_id=strawberry.ID(data["idea_id"]),
        parent_id=strawberry.ID(data["parent_id"]) if data.get("parent_id") else None,
        author=Person(subject=author["subject"], name=author["name"]) if author else None,
        by_idea_author=data["by_idea_author"],
        body=data.get("body"),
        deleted=data["deleted"],
        created_at=datetime.fromisoformat(data["created_at"]),
    )
