"""Guided reflection, the private journal and knowledge gaps in GraphQL.

Streaming (tokens as the language model writes them) is the reflection service's REST
endpoint with `Accept: text/event-stream`; GraphQL answers once the question is complete.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.connections import PageInfo
from gateway.schema.context import Context
from gateway.schema.shared import Reflection, reflection_from
from gateway.schema.upstream import read, read_or_none
from gateway.security import IsAuthenticated

MAX_PAGE = 100


@strawberry.enum(description="Whose reflections to list.")
class ReflectionScope(Enum):
    MINE = "mine"
    SHARED = "shared"


@strawberry.type(description="A text in Dutch and in English.")
class LocalisedText:
    nl: str = strawberry.field(description="Dutch.")
    en: str = strawberry.field(description="English.")


@strawberry.type(description="One stage of a reflection model.")
class ReflectionModelStage:
    key: str = strawberry.field(description="Pass this as `stage` when answering.")
    purpose: str = strawberry.field(description="describe, feel, evaluate, analyse, conclude, act.")
    title: LocalisedText = strawberry.field(description="Stage title.")
    question: LocalisedText = strawberry.field(description="The question without a source.")


@strawberry.type(description="A reflection model, e.g. What? So what? Now what? or Gibbs.")
class ReflectionModel:
    key: str = strawberry.field(description="Pass this as `model` when starting.")
    name: LocalisedText = strawberry.field(description="Its name.")
    description: LocalisedText = strawberry.field(description="What it is for.")
    stages: list[ReflectionModelStage] = strawberry.field(description="Its stages, in order.")


@strawberry.type(description="One reflection in a list.")
class ReflectionEdge:
    cursor: str = strawberry.field(description="Opaque cursor.")
    node: Reflection = strawberry.field(description="The reflection.")


@strawberry.type(description="A page of reflections (Relay connection).")
class ReflectionConnection:
    edges: list[ReflectionEdge] = strawberry.field(description="Newest first.")
    page_info: PageInfo = strawberry.field(description="Whether more follow.")


@strawberry.type(description="A question the documents could not answer; never a person.")
class KnowledgeGap:
    process: str | None = strawberry.field(description="The process, when one was named.")
    question: str = strawberry.field(description="The question's normalised words.")
    people: int = strawberry.field(description="Different people who met it (≥ the minimum).")
    occurrences: int = strawberry.field(description="Times it was met.")
    from_search: int = strawberry.field(description="Met in searches.")
    from_reflection: int = strawberry.field(description="Met in reflections.")
    first_seen: datetime = strawberry.field(description="First met.")
    last_seen: datetime = strawberry.field(description="Last met.")


@strawberry.type(description="Knowledge gaps met by at least `minGroupSize` people.")
class KnowledgeGaps:
    min_group_size: int = strawberry.field(description="Smaller groups are never shown.")
    gaps: list[KnowledgeGap] = strawberry.field(description="Most-met first.")


@strawberry.type(description="The idea draft made from an action, and the reflection now linked.")
class IdeaDrafted:
    idea_id: strawberry.ID = strawberry.field(description="The draft idea.")
    created: bool = strawberry.field(description="False when the action was already an idea.")
    reflection: Reflection = strawberry.field(description="The reflection, linking to it.")


@strawberry.type(description="The reflection was deleted for good.")
class ReflectionDeleted:
    id: strawberry.ID = strawberry.field(description="The deleted reflection.")


@strawberry.input(description="Start a reflection.")
class StartReflectionInput:
    experience: str = strawberry.field(description="What happened, in your own words.")
    process: str | None = strawberry.field(default=None, description="The process, if known.")
    model: str = strawberry.field(
        default="what-so-what-now-what", description="A reflection model key."
    )
    language: str | None = strawberry.field(
        default=None, description="nl or en; detected when left out."
    )


def _localised(data: dict[str, str]) -> LocalisedText:
    return LocalisedText(nl=data["nl"], en=data["en"])


def _reflection_page(body: dict[str, Any]) -> ReflectionConnection:
    items, next_cursor = body["items"], body["next_cursor"]
    edges = [ReflectionEdge(cursor="", node=reflection_from(item)) for item in items]
    if edges and next_cursor:
        edges[-1].cursor = next_cursor
    return ReflectionConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=next_cursor),
    )


def _models_from(body: list[dict[str, Any]]) -> list[ReflectionModel]:
    return [
        ReflectionModel(
            key=m["key"],
            name=_localised(m["name"]),
            description=_localised(m["description"]),
            stages=[
                ReflectionModelStage(
                    key=s["key"],
                    purpose=s["purpose"],
                    title=_localised(s["title"]),
                    question=_localised(s["question"]),
                )
                for s in m["stages"]
            ],
        )
        for m in body
    ]


def _gaps_from(body: dict[str, Any]) -> KnowledgeGaps:
    return KnowledgeGaps(
        min_group_size=body["min_group_size"],
        gaps=[
            KnowledgeGap(
                process=g.get("process"),
                question=g["question"],
                people=g["people"],
                occurrences=g["occurrences"],
                from_search=g["from_search"],
                from_reflection=g["from_reflection"],
                first_seen=datetime.fromisoformat(g["first_seen"]),
                last_seen=datetime.fromisoformat(g["last_seen"]),
            )
            for g in body["gaps"]
        ],
    )


@strawberry.type
class ReflectionsQuery:
    @strawberry.field(
        description="One reflection: yours, or one shared with your team; null otherwise.",
        permission_classes=[IsAuthenticated],
    )
    async def reflection(self, info: Info[Context, None], id: strawberry.ID) -> Reflection | None:
        return await read_or_none(
            info, "reflection", "/v1/reflections/{id}", reflection_from, ids={"id": id}
        )

    @strawberry.field(
        description="Your reflections (or, with scope SHARED, those shared with your teams).",
        permission_classes=[IsAuthenticated],
    )
    async def my_reflections(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        scope: ReflectionScope = ReflectionScope.MINE,
    ) -> ReflectionConnection:
        if not 1 <= first <= MAX_PAGE:
            raise GraphQLError(
                f"`first` must be between 1 and {MAX_PAGE}", extensions={"code": "BAD_USER_INPUT"}
            )
        params: dict[str, Any] = {"limit": first, "scope": scope.value}
        if after:
            params["cursor"] = after
        return await read(info, "reflection", "/v1/reflections", _reflection_page, params=params)

    @strawberry.field(description="Reflection models to choose from.")
    async def reflection_models(self, info: Info[Context, None]) -> list[ReflectionModel]:
        if info.context.principal is None:
            raise GraphQLError("sign in first", extensions={"code": "UNAUTHENTICATED"})
        return await read(info, "reflection", "/v1/reflection-models", _models_from)

    @strawberry.field(
        description="Questions the documents could not answer (admins, analysts, owners).",
        permission_classes=[IsAuthenticated],
    )
    async def knowledge_gaps(
        self, info: Info[Context, None], process: str | None = None
    ) -> KnowledgeGaps:
        params = {"process": process} if process else None
        return await read(info, "reflection", "/v1/knowledge-gaps", _gaps_from, params=params)
