"""The reflection domain's own GraphQL types: reflection models, the page of reflections,
knowledge gaps, what the mutations answer (with their result unions) and the events of the
streaming subscriptions, with the REST → GraphQL converters. The Reflection type itself links
ideas, so it lives in gateway/schema/shared.py."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from gateway.schema.connections import Connection, Edge, connection_for, connection_of
from gateway.schema.errors import UnversionedError
from gateway.schema.shared import Citation, Reflection, citation_from, reflection_from


@strawberry.enum(description="Whose reflections to list.")
class ReflectionScope(Enum):
    """Whose reflections a list holds: the caller's, or those shared with their teams."""

    MINE = "mine"
    SHARED = "shared"


@strawberry.type(description="A text in Dutch and in English.")
class LocalisedText:
    """One text in Dutch (`nl`) and English (`en`)."""

    nl: str = strawberry.field(description="Dutch.")
    en: str = strawberry.field(description="English.")


@strawberry.type(description="One stage of a reflection model.")
class ReflectionModelStage:
    """One stage of a reflection model: its key, purpose, title and question."""

    key: str = strawberry.field(description="Pass this as `stage` when answering.")
    purpose: str = strawberry.field(description="describe, feel, evaluate, analyse, conclude, act.")
    title: LocalisedText = strawberry.field(description="Stage title.")
    question: LocalisedText = strawberry.field(description="The question without a source.")


@strawberry.type(description="A reflection model, e.g. What? So what? Now what? or Gibbs.")
class ReflectionModel:
    """A reflection model with its stages in order."""

    key: str = strawberry.field(description="Pass this as `model` when starting.")
    name: LocalisedText = strawberry.field(description="Its name.")
    description: LocalisedText = strawberry.field(description="What it is for.")
    stages: list[ReflectionModelStage] = strawberry.field(description="Its stages, in order.")


@connection_for(Reflection, edges="Newest first.")
class ReflectionConnection(Connection[Edge[Reflection]]):
    """A page of reflections, newest first; only the last edge carries a cursor (the service's
    next one)."""


@strawberry.type(description="A question the documents could not answer; never a person.")
class KnowledgeGap:
    """A question the documents could not answer, met by at least the minimum number of people."""

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
    """Knowledge gaps, most met first, and the minimum group size below which none is shown."""

    min_group_size: int = strawberry.field(description="Smaller groups are never shown.")
    gaps: list[KnowledgeGap] = strawberry.field(description="Most-met first.")


@strawberry.type(description="The idea draft made from an action, and the reflection now linked.")
class IdeaDrafted:
    """The idea draft made from an action, whether it was new, and the reflection linking it."""

    idea_id: strawberry.ID = strawberry.field(description="The draft idea.")
    created: bool = strawberry.field(description="False when the action was already an idea.")
    reflection: Reflection = strawberry.field(description="The reflection, linking to it.")


@strawberry.type(description="The reflection was deleted for good.")
class ReflectionDeleted:
    """The id of a reflection deleted for good."""

    id: strawberry.ID = strawberry.field(description="The deleted reflection.")


@strawberry.input(description="Start a reflection.")
class StartReflectionInput:
    """What a new reflection starts from: the experience, and optionally process, model and
    language."""

    experience: str = strawberry.field(description="What happened, in your own words.")
    process: str | None = strawberry.field(default=None, description="The process, if known.")
    model: str = strawberry.field(
        default="what-so-what-now-what", description="A reflection model key."
    )
    language: str | None = strawberry.field(
        default=None, description="nl or en; detected when left out."
    )


ReflectionResult = Annotated[
    Reflection | UnversionedError,
    strawberry.union("ReflectionResult", description="The reflection, or why it was refused."),
]


IdeaDraftedResult = Annotated[
    IdeaDrafted | UnversionedError,
    strawberry.union("IdeaDraftedResult", description="The draft, or why it was refused."),
]


ReflectionDeletedResult = Annotated[
    ReflectionDeleted | UnversionedError,
    strawberry.union("ReflectionDeletedResult", description="Deleted, or why not."),
]


@strawberry.type(description="A piece of the question as the guide writes it.")
class ReflectionToken:
    """A piece of the question as the guide writes it."""

    text: str = strawberry.field(description="Append to what came before.")


@strawberry.type(description="Discard the text so far: the built-in guide takes over.")
class ReflectionRestart:
    """Tells the client to drop the text so far: the built-in guide takes over."""

    notice: str = strawberry.field(description="Why (the language model failed or was slow).")


@strawberry.type(description="The sources the coming question cites.")
class ReflectionSources:
    """The passages the coming question cites."""

    citations: list[Citation] = strawberry.field(description="c1, c2 …")


@strawberry.type(description="The reflection service refused or failed; nothing was saved.")
class ReflectionStreamError:
    """The service refused or failed the stream; nothing was saved."""

    code: str = strawberry.field(description="The error code.")
    message: str = strawberry.field(description="What went wrong.")


ReflectionStreamEvent = Annotated[
    ReflectionSources | ReflectionToken | ReflectionRestart | Reflection | ReflectionStreamError,
    strawberry.union(
        "ReflectionStreamEvent",
        description="Sources, then tokens (maybe a restart), then the saved reflection.",
    ),
]


def _localised(data: dict[str, str]) -> LocalisedText:
    return LocalisedText(nl=data["nl"], en=data["en"])


def reflection_page_from(body: dict[str, Any]) -> ReflectionConnection:
    """The ReflectionConnection for a REST page ({items, next_cursor}); `endCursor` is the
    service's next cursor."""
    items, next_cursor = body["items"], body["next_cursor"]
    # The service gives one cursor, after the last item: only that edge can resume a list.
    cursors = [""] * len(items)
    if items and next_cursor:
        cursors[-1] = next_cursor
    return connection_of(
        ReflectionConnection,
        ReflectionConnection.edge_type,
        [reflection_from(item) for item in items],
        cursors,
        next_cursor=next_cursor,
        end_cursor=next_cursor,
    )


def models_from(body: list[dict[str, Any]]) -> list[ReflectionModel]:
    """The ReflectionModels of the REST list of models."""
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


def gaps_from(body: dict[str, Any]) -> KnowledgeGaps:
    """KnowledgeGaps for the REST answer ({min_group_size, gaps})."""
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


def drafted_from(body: dict[str, Any]) -> IdeaDrafted:
    """IdeaDrafted for the REST answer ({idea_id, created, reflection})."""
    return IdeaDrafted(
        idea_id=strawberry.ID(body["idea_id"]),
        created=body["created"],
        reflection=reflection_from(body["reflection"]),
    )


def stream_event(name: str, data: Any) -> Any:
    """The ReflectionStreamEvent member for one server-sent event `name` with its JSON `data`:
    passages, token, restart, reflection; anything else a ReflectionStreamError."""
    if name == "passages":
        return ReflectionSources(citations=[citation_from(c) for c in data])
    if name == "token":
        return ReflectionToken(text=data["text"])
    if name == "restart":
        return ReflectionRestart(notice=data["notice"])
    if name == "reflection":
        return reflection_from(data)
    error = data.get("error", {}) if isinstance(data, dict) else {}
    return ReflectionStreamError(
        code=str(error.get("code", "error")), message=str(error.get("message", "failed"))
    )
