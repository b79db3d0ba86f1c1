"""REST routes of the reflection journal: reflection models, reflections, their stages, shares
and ideas, and the author's privacy choice. Routes only: parse, call the service, present.

Reading routes take the request's read-only session; changing routes also take its write
session, which the service touches only after its slow work (service.py, "One transaction
model"). `POST /v1/reflections` and `POST /v1/reflections/{id}/answers` answer with JSON, or with
server-sent events when the client sends `Accept: text/event-stream` (streaming.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from kit.auth import PrincipalDep
from kit.db import ReadSessionDep, SessionDep
from kit.disconnect import ensure_connected
from services.reflection.journal import idea_drafts
from services.reflection.journal.models import (
    AnswerCreate,
    IdeaDrafted,
    IdeaFromAction,
    Preferences,
    ReflectionModelPublic,
    ReflectionPage,
    ReflectionPublic,
    ReflectionStart,
    ShareRequest,
    StagePublic,
)
from services.reflection.journal.service import Journal
from services.reflection.journal.streaming import event_stream, wants_stream

journal = APIRouter(prefix="/v1", tags=["reflections"])
STREAMED = {
    "content": {"text/event-stream": {}},
    "description": "With `Accept: text/event-stream`: the question streamed as it is made.",
}


def _journal(request: Request) -> Journal:
    service: Journal = request.app.state.journal
    return service


JournalDep = Annotated[Journal, Depends(_journal)]
AcceptHeader = Annotated[str | None, Header()]


@journal.get(
    "/reflection-models",
    response_model=list[ReflectionModelPublic],
    summary="Reflection models to choose from",
)
async def reflection_models(service: JournalDep, _: PrincipalDep) -> list[ReflectionModelPublic]:
    """Every reflection model of the catalogue, with its stages, in both languages."""
    return [
        ReflectionModelPublic(
            key=m.key,
            name=m.name.model_dump(),
            description=m.description.model_dump(),
            stages=[
                StagePublic(
                    key=s.key,
                    purpose=s.purpose,
                    title=s.title.model_dump(),
                    question=s.question.model_dump(),
                )
                for s in m.stages
            ],
        )
        for m in service.catalogue.values()
    ]


@journal.post(
    "/reflections",
    status_code=201,
    response_model=ReflectionPublic,
    responses={200: STREAMED},
    summary="Start a reflection from an experience; answers with the first stage's question",
)
async def start_reflection(
    body: ReflectionStart,
    request: Request,
    service: JournalDep,
    principal: PrincipalDep,
    reads: ReadSessionDep,
    session: SessionDep,
    accept: AcceptHeader = None,
) -> ReflectionPublic | Response:
    """Journal.start, as JSON (201) or streamed (200)."""
    service.check_start(body)
    await ensure_connected(request)  # retrieval and the guide are the cost: none for a lost caller
    if wants_stream(accept):
        return event_stream(
            service.database, lambda r, s, sink: service.start(r, s, principal, body, sink)
        )
    return await service.start(reads, session, principal, body)


@journal.get("/reflections", response_model=ReflectionPage, summary="Your reflections")
async def list_reflections(
    service: JournalDep,
    principal: PrincipalDep,
    session: ReadSessionDep,
    scope: Literal["mine", "shared"] = "mine",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    id: Annotated[list[uuid.UUID], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies it
) -> ReflectionPage:
    """Journal.page."""
    return await service.page(session, principal, scope, limit, cursor, id or None)


@journal.get(
    "/reflections/{reflection_id}",
    response_model=ReflectionPublic,
    summary="One reflection: yours, or shared with your team",
)
async def get_reflection(
    reflection_id: uuid.UUID, service: JournalDep, principal: PrincipalDep, session: ReadSessionDep
) -> ReflectionPublic:
    """Journal.present."""
    return await service.present(session, principal, reflection_id)


@journal.post(
    "/reflections/{reflection_id}/answers",
    response_model=ReflectionPublic,
    responses={200: STREAMED},
    summary="Answer the current stage; answers with the next stage's question",
)
async def answer_stage(
    reflection_id: uuid.UUID,
    body: AnswerCreate,
    request: Request,
    service: JournalDep,
    principal: PrincipalDep,
    reads: ReadSessionDep,
    session: SessionDep,
    accept: AcceptHeader = None,
) -> ReflectionPublic | Response:
    """Journal.answer, as JSON or streamed; the stage is checked before anything is streamed."""
    loaded = await service.check_answer(reads, principal, reflection_id, body.stage)
    await ensure_connected(request)
    if wants_stream(accept):
        return event_stream(
            service.database,
            lambda r, s, sink: service.answer(r, s, principal, loaded, body.answer, sink),
        )
    return await service.answer(reads, session, principal, loaded, body.answer)


@journal.post(
    "/reflections/{reflection_id}/finish",
    response_model=ReflectionPublic,
    summary="Finish: a summary of what happened, learning points and actions, with citations",
)
async def finish_reflection(
    reflection_id: uuid.UUID,
    service: JournalDep,
    principal: PrincipalDep,
    reads: ReadSessionDep,
    session: SessionDep,
) -> ReflectionPublic:
    """Journal.finish."""
    return await service.finish(reads, session, principal, reflection_id)


@journal.put(
    "/reflections/{reflection_id}/share",
    response_model=ReflectionPublic,
    summary="Share with your team(s); replaces an earlier choice",
)
async def share_reflection(
    reflection_id: uuid.UUID,
    body: ShareRequest,
    service: JournalDep,
    principal: PrincipalDep,
    session: SessionDep,
) -> ReflectionPublic:
    """Journal.share."""
    return await service.share(session, principal, reflection_id, body.teams)


@journal.delete(
    "/reflections/{reflection_id}/share",
    response_model=ReflectionPublic,
    summary="Make it private again",
)
async def unshare_reflection(
    reflection_id: uuid.UUID, service: JournalDep, principal: PrincipalDep, session: SessionDep
) -> ReflectionPublic:
    """Journal.unshare."""
    return await service.unshare(session, principal, reflection_id)


@journal.delete(
    "/reflections/{reflection_id}", status_code=204, summary="Delete your reflection for good"
)
async def delete_reflection(
    reflection_id: uuid.UUID, service: JournalDep, principal: PrincipalDep, session: SessionDep
) -> Response:
    """Journal.delete; 204 without a body."""
    await service.delete(session, principal, reflection_id)
    return Response(status_code=204)


@journal.post(
    "/reflections/{reflection_id}/ideas",
    response_model=IdeaDrafted,
    summary="Turn one action of a finished reflection into an idea draft, linked both ways",
)
async def idea_from_action(
    reflection_id: uuid.UUID,
    body: IdeaFromAction,
    response: Response,
    service: JournalDep,
    principal: PrincipalDep,
    reads: ReadSessionDep,
    session: SessionDep,
) -> IdeaDrafted:
    """idea_drafts.draft_idea: 201 when this call made the draft, 200 when it was made before."""
    drafted = await idea_drafts.draft_idea(service, reads, session, principal, reflection_id, body)
    response.status_code = 201 if drafted.created else 200
    return drafted


@journal.get("/reflection-preferences", response_model=Preferences, summary="Your privacy choices")
async def get_preferences(
    service: JournalDep, principal: PrincipalDep, session: ReadSessionDep
) -> Preferences:
    """Journal.preferences."""
    return Preferences(share_with_analytics=await service.preferences(session, principal))


@journal.put(
    "/reflection-preferences", response_model=Preferences, summary="Change your privacy choices"
)
async def put_preferences(
    body: Preferences, service: JournalDep, principal: PrincipalDep, session: SessionDep
) -> Preferences:
    """Journal.set_preferences; answers with the choice stored."""
    await service.set_preferences(session, principal, body.share_with_analytics)
    return body
