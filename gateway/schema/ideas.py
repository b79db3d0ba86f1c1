"""Ideas in GraphQL: the types, a Relay-style connection, one idea and duplicates (the
mutations are in ideas_mutations.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.connections import PageInfo
from gateway.schema.context import Context
from gateway.schema.shared import Idea, IdeaStatus, Person, idea_from
from gateway.schema.upstream import read, read_or_none
from gateway.security import IsAuthenticated

MAX_PAGE = 100


@strawberry.enum(description="Order of an idea list.")
class IdeaSort(Enum):
    NEWEST = "newest"
    MOST_SUPPORTED = "most_supported"
    RECENTLY_UPDATED = "recently_updated"


@strawberry.input(description="Effect of an idea on the work; scales run from -2 to +2.")
class ImpactInput:
    hours_saved_per_week: float | None = strawberry.field(default=None, description="Hours/week.")
    cost_eur: float | None = strawberry.field(default=None, description="One-off cost in euros.")
    quality: int | None = strawberry.field(default=None, description="-2..+2")
    safety: int | None = strawberry.field(default=None, description="-2..+2")
    work_pressure: int | None = strawberry.field(default=None, description="-2..+2")
    wellbeing: int | None = strawberry.field(default=None, description="-2..+2")
    notes: str | None = strawberry.field(default=None, description="Free text.")


@strawberry.type(description="One idea in a list, with the cursor that resumes after it.")
class IdeaEdge:
    cursor: str = strawberry.field(description="Opaque cursor.")
    node: Idea = strawberry.field(description="The idea.")


@strawberry.type(description="A page of ideas (Relay connection).")
class IdeaConnection:
    edges: list[IdeaEdge] = strawberry.field(description="The ideas with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether more follow.")


@strawberry.input(description="Which ideas to list; all given conditions must hold.")
class IdeaFilter:
    status: list[IdeaStatus] | None = strawberry.field(default=None, description="Any of these.")
    team: str | None = strawberry.field(default=None, description="Team key.")
    tag: str | None = strawberry.field(default=None, description="Process tag.")
    mine: bool = strawberry.field(default=False, description="Only your own ideas.")
    following: bool = strawberry.field(default=False, description="Only ideas you follow.")
    search: str | None = strawberry.field(default=None, description="Words that must all occur.")


@strawberry.type(description="An existing idea that resembles a draft.")
class SimilarIdea:
    idea_id: strawberry.ID = strawberry.field(description="The existing idea.")
    title: str = strawberry.field(description="Its title.")
    status: IdeaStatus = strawberry.field(description="Its status.")
    support_count: int = strawberry.field(description="Its support.")
    score: float = strawberry.field(description="Relevance, higher is more alike.")
    matched_by: list[str] = strawberry.field(description="`lexical`, `semantic` or both.")


@strawberry.type(description="Likely duplicates, best first.")
class SimilarIdeas:
    items: list[SimilarIdea] = strawberry.field(description="The candidates.")
    semantic: bool = strawberry.field(description="False when only word matching was possible.")


@strawberry.type(description="A comment on an idea.")
class Comment:
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


def _idea_page(body: dict[str, Any]) -> IdeaConnection:
    edges = [
        IdeaEdge(cursor=cursor, node=idea_from(item))
        for item, cursor in zip(body["items"], body["cursors"], strict=True)
    ]
    return IdeaConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=body["next_cursor"] is not None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def _similar_from(body: dict[str, Any]) -> SimilarIdeas:
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


@strawberry.type
class IdeasQuery:
    @strawberry.field(
        description="Ideas you may see, newest first by default.",
        permission_classes=[IsAuthenticated],
    )
    async def ideas(
        self,
        info: Info[Context, None],
        filter: IdeaFilter | None = None,
        sort: IdeaSort = IdeaSort.NEWEST,
        first: int = 20,
        after: str | None = None,
    ) -> IdeaConnection:
        if not 1 <= first <= MAX_PAGE:
            raise GraphQLError(
                f"`first` must be between 1 and {MAX_PAGE}", extensions={"code": "BAD_USER_INPUT"}
            )
        f = filter or IdeaFilter()
        params: list[tuple[str, str]] = [("sort", sort.value), ("limit", str(first))]
        params += [("status", s.value) for s in f.status or []]
        for key, value in (("team", f.team), ("tag", f.tag), ("q", f.search), ("cursor", after)):
            if value is not None:
                params.append((key, value))
        if f.mine:
            params.append(("mine", "true"))
        if f.following:
            params.append(("following", "true"))
        return await read(info, "ideas", "/v1/ideas", _idea_page, params=params)

    @strawberry.field(
        description="One idea, or null when it does not exist for you.",
        permission_classes=[IsAuthenticated],
    )
    async def idea(self, info: Info[Context, None], id: strawberry.ID) -> Idea | None:
        return await read_or_none(info, "ideas", "/v1/ideas/{id}", idea_from, ids={"id": id})

    @strawberry.field(
        description="Existing ideas that resemble a draft text.",
        permission_classes=[IsAuthenticated],
    )
    async def similar_ideas(
        self, info: Info[Context, None], text: str, team: str | None = None, first: int = 5
    ) -> SimilarIdeas:
        body: dict[str, Any] = {"text": text, "limit": first}
        if team:
            body["team"] = team
        return await read(
            info, "ideas", "/v1/ideas/similar", _similar_from, method="POST", json=body
        )
