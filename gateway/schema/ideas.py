"""Ideas in GraphQL: the types, a Relay-style connection, one idea and duplicates (the
mutations are in ideas_mutations.py)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.clients import UpstreamUnavailable, call
from gateway.schema.context import Context
from gateway.schema.errors import (
    raise_for_query,
    raise_unavailable,
)
from gateway.schema.upstream import ask_for_query
from gateway.security import IsAuthenticated

if TYPE_CHECKING:
    from gateway.schema.documents import Document
    from gateway.schema.reflections import Reflection

MAX_PAGE = 100


@strawberry.enum(description="Where an idea stands in the review workflow.")
class IdeaStatus(Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    PILOTING = "piloting"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"
    PARKED = "parked"
    WITHDRAWN = "withdrawn"


@strawberry.enum(description="Order of an idea list.")
class IdeaSort(Enum):
    NEWEST = "newest"
    MOST_SUPPORTED = "most_supported"
    RECENTLY_UPDATED = "recently_updated"


@strawberry.type(description="A person as shown to others.")
class Person:
    subject: str = strawberry.field(description="Stable id of the person.")
    name: str = strawberry.field(description="Display name.")


@strawberry.type(
    description="Effect of an idea on the work; scales run from -2 (much worse) to +2."
)
class Impact:
    hours_saved_per_week: float | None = strawberry.field(description="Working hours saved weekly.")
    cost_eur: float | None = strawberry.field(description="One-off cost in euros.")
    quality: int | None = strawberry.field(description="Effect on quality, -2..+2.")
    safety: int | None = strawberry.field(description="Effect on safety, -2..+2.")
    work_pressure: int | None = strawberry.field(description="Effect on work pressure, -2..+2.")
    wellbeing: int | None = strawberry.field(description="Effect on well-being, -2..+2.")
    notes: str | None = strawberry.field(description="Free text.")


@strawberry.input(description="Effect of an idea on the work; scales run from -2 to +2.")
class ImpactInput:
    hours_saved_per_week: float | None = strawberry.field(default=None, description="Hours/week.")
    cost_eur: float | None = strawberry.field(default=None, description="One-off cost in euros.")
    quality: int | None = strawberry.field(default=None, description="-2..+2")
    safety: int | None = strawberry.field(default=None, description="-2..+2")
    work_pressure: int | None = strawberry.field(default=None, description="-2..+2")
    wellbeing: int | None = strawberry.field(default=None, description="-2..+2")
    notes: str | None = strawberry.field(default=None, description="Free text.")


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
    async def linked_documents(
        self, info: Info[Context, None]
    ) -> list[Annotated[Document, strawberry.lazy("gateway.schema.documents")]] | None:
        from gateway.schema.documents import document_from

        found = await info.context.loaders.documents.load_many([str(i) for i in self.document_ids])
        return [document_from(d) for d in found if d is not None]

    @strawberry.field(
        description="The reflection this idea came from, when you may read it (yours, or "
        "shared with your team)."
    )
    async def source_reflection(
        self, info: Info[Context, None]
    ) -> Annotated[Reflection, strawberry.lazy("gateway.schema.reflections")] | None:
        from gateway.schema.reflections import reflection_from

        if not self.reflection_ids:
            return None
        found = await info.context.loaders.reflections.load(str(self.reflection_ids[0]))
        return reflection_from(found) if found is not None else None


def idea_from(data: dict[str, Any]) -> Idea:
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


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


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


def _token(info: Info[Context, None]) -> str:
    principal = info.context.principal
    assert principal is not None  # every field here requires IsAuthenticated
    return principal.token


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
        try:
            reply = await call(
                info.context.upstreams,
                "ideas",
                "GET",
                "/v1/ideas",
                token=_token(info),
                params=params,
            )
        except UpstreamUnavailable as exc:
            raise_unavailable(exc)
        raise_for_query(reply)
        body = reply.body
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

    @strawberry.field(
        description="One idea, or null when it does not exist for you.",
        permission_classes=[IsAuthenticated],
    )
    async def idea(self, info: Info[Context, None], id: strawberry.ID) -> Idea | None:
        reply = await ask_for_query(info, "ideas", "GET", "/v1/ideas/{id}", ids={"id": id})
        if reply.status == 404:
            return None
        raise_for_query(reply)
        return idea_from(reply.body)

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
        try:
            reply = await call(
                info.context.upstreams,
                "ideas",
                "POST",
                "/v1/ideas/similar",
                token=_token(info),
                json=body,
            )
        except UpstreamUnavailable as exc:
            raise_unavailable(exc)
        raise_for_query(reply)
        return SimilarIdeas(
            semantic=reply.body["semantic"],
            items=[
                SimilarIdea(
                    idea_id=strawberry.ID(i["id"]),
                    title=i["title"],
                    status=IdeaStatus(i["status"]),
                    support_count=i["support_count"],
                    score=i["score"],
                    matched_by=list(i["matched_by"]),
                )
                for i in reply.body["items"]
            ],
        )
