"""Guided reflection, the private journal and knowledge gaps in GraphQL.

Streaming (tokens as the language model writes them) is the reflection service's REST
endpoint with `Accept: text/event-stream`; GraphQL answers once the question is complete.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.errors import (
    raise_for_query,
)
from gateway.schema.ideas import PageInfo
from gateway.schema.upstream import ask_for_query
from gateway.security import IsAuthenticated

if TYPE_CHECKING:
    from gateway.schema.documents import Document
    from gateway.schema.ideas import Idea

MAX_PAGE = 100


@strawberry.enum(description="Where a reflection is.")
class ReflectionStatus(Enum):
    OPEN = "open"
    FINISHED = "finished"


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


@strawberry.type(
    description="A passage of a process document shown with a question. When you may not open "
    "its document (now), only `id` is shown and `readable` is false: a passage you cannot open."
)
class Citation:
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
    async def document(
        self, info: Info[Context, None]
    ) -> Annotated[Document, strawberry.lazy("gateway.schema.documents")] | None:
        from gateway.schema.documents import document_from

        if self.document_id is None:
            return None
        found = await info.context.loaders.documents.load(str(self.document_id))
        return document_from(found) if found is not None else None


@strawberry.type(description="One stage asked: question, sources and the worker's answer.")
class ReflectionStage:
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
    text: str = strawberry.field(description="The point.")
    citations: list[str] = strawberry.field(description="Answer (a1) or source (c1) ids.")


@strawberry.type(description="What a finished reflection comes to.")
class ReflectionSummary:
    what_happened: str = strawberry.field(description="The experience, in the worker's words.")
    learning_points: list[SummaryPoint] = strawberry.field(description="What was learned.")
    actions: list[SummaryPoint] = strawberry.field(description="What will be done differently.")
    citations: list[Citation] = strawberry.field(description="Every source shown.")
    engine: str = strawberry.field(description="guided or llm.")
    notice: str | None = strawberry.field(description="E.g. the language model fell back.")
    stripped_citations: list[str] = strawberry.field(description="Made-up ids, removed.")


@strawberry.type(description="An idea drafted from one of the reflection's actions.")
class ReflectionIdeaLink:
    action: int = strawberry.field(description="Index of the action in the summary.")
    idea_id: strawberry.ID = strawberry.field(description="The idea.")

    @strawberry.field(description="The idea itself, when you may read it.")
    async def idea(
        self, info: Info[Context, None]
    ) -> Annotated[Idea, strawberry.lazy("gateway.schema.ideas")] | None:
        from gateway.schema.ideas import idea_from

        found = await info.context.loaders.ideas.load(str(self.idea_id))
        return idea_from(found) if found is not None else None


@strawberry.type(description="A reflection: private to its author unless shared with a team.")
class Reflection:
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


def _citation(data: dict[str, Any]) -> Citation:
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


def reflection_from(data: dict[str, Any]) -> Reflection:
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
                citations=[_citation(c) for c in t["citations"]],
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
            citations=[_citation(c) for c in summary["citations"]],
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


@strawberry.type
class ReflectionsQuery:
    @strawberry.field(
        description="One reflection: yours, or one shared with your team; null otherwise.",
        permission_classes=[IsAuthenticated],
    )
    async def reflection(self, info: Info[Context, None], id: strawberry.ID) -> Reflection | None:
        reply = await ask_for_query(
            info, "reflection", "GET", "/v1/reflections/{id}", ids={"id": id}
        )
        if reply.status == 404:
            return None
        raise_for_query(reply)
        return reflection_from(reply.body)

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
        reply = await ask_for_query(info, "reflection", "GET", "/v1/reflections", params=params)
        raise_for_query(reply)
        items, next_cursor = reply.body["items"], reply.body["next_cursor"]
        edges = [ReflectionEdge(cursor="", node=reflection_from(item)) for item in items]
        if edges and next_cursor:
            edges[-1].cursor = next_cursor
        return ReflectionConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=next_cursor),
        )

    @strawberry.field(description="Reflection models to choose from.")
    async def reflection_models(self, info: Info[Context, None]) -> list[ReflectionModel]:
        if info.context.principal is None:
            raise GraphQLError("sign in first", extensions={"code": "UNAUTHENTICATED"})
        reply = await ask_for_query(info, "reflection", "GET", "/v1/reflection-models")
        raise_for_query(reply)
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
            for m in reply.body
        ]

    @strawberry.field(
        description="Questions the documents could not answer (admins, analysts, owners).",
        permission_classes=[IsAuthenticated],
    )
    async def knowledge_gaps(
        self, info: Info[Context, None], process: str | None = None
    ) -> KnowledgeGaps:
        params = {"process": process} if process else None
        reply = await ask_for_query(info, "reflection", "GET", "/v1/knowledge-gaps", params=params)
        raise_for_query(reply)
        return KnowledgeGaps(
            min_group_size=reply.body["min_group_size"],
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
                for g in reply.body["gaps"]
            ],
        )
