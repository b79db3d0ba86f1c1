"""REST routes of the reflection journal: reflection models, reflections, their stages, shares
and ideas, and the author's privacy choice. Routes only: parse, call the service, present.

`POST /v1/reflections` and `POST /v1/reflections/{id}/answers` answer with JSON, or with
server-sent events when the client sends `Accept: text/event-stream` (see streaming.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response

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
from services.reflection.journal.repository import JournalRepository
from services.reflection.journal.service import Journal
from services.reflection.journal.streaming import event_stream, wants_stream

journal = APIRouter(prefix="/v1", tags=["reflections"])
STREAMED = {
    "content": {"text/event-stream": {}},
    "description": "With `Accept: text/event-stream`: the question streamed as it is made.",
}


def _journal(request: Request) -> Journal:
    journal_: Journal = request.app.state.journal
    return journal_


@journal.get(
    "/reflection-models",
    response_model=list[ReflectionModelPublic],
    summary="Reflection models to choose from",
)
async def reflection_models(request: Request, _: PrincipalDep) -> list[ReflectionModelPublic]:
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
        for m in _journal(request).catalogue.values()
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
    principal: PrincipalDep,
    accept: Annotated[str | None, Header()] = None,
) -> ReflectionPublic | Response:
    journal_ = _journal(request)
    journal_.check_start(body)
    await ensure_connected(request)  # retrieval and the guide are the cost: none for a lost caller
    if wants_stream(accept):
        return event_stream(lambda sink: journal_.start(principal, body, sink))
    return await journal_.start(principal, body)


@journal.get("/reflections", response_model=ReflectionPage, summary="Your reflections")
async def list_reflections(
    request: Request,
    principal: PrincipalDep,
    scope: Literal["mine", "shared"] = "mine",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    id: Annotated[list[uuid.UUID], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies it
) -> ReflectionPage:
    return await _journal(request).page(principal, scope, limit, cursor, id or None)


@journal.get(
    "/reflections/{reflection_id}",
    response_model=ReflectionPublic,
    summary="One reflection: yours, or shared with your team",
)
async def get_reflection(
    reflection_id: uuid.UUID, request: Request, principal: PrincipalDep
) -> ReflectionPublic:
    return await _journal(request).visible(principal, reflection_id)


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
    principal: PrincipalDep,
    accept: Annotated[str | None, Header()] = None,
) -> ReflectionPublic | Response:
    journal_ = _journal(request)
    loaded = await journal_.check_answer(principal, reflection_id, body.stage)
    await ensure_connected(request)
    if wants_stream(accept):
        return event_stream(lambda sink: journal_.answer(principal, loaded, body.answer, sink))
    return await journal_.answer(principal, loaded, body.answer)


@journal.post(
    "/reflections/{reflection_id}/finish",
    response_model=ReflectionPublic,
    summary="Finish: a summary of what happened, learning points and actions, with citations",
)
async def finish_reflection(
    reflection_id: uuid.UUID, request: Request, principal: PrincipalDep
) -> ReflectionPublic:
    return await _journal(request).finish(principal, reflection_id)


@journal.put(
    "/reflections/{reflection_id}/share",
    response_model=ReflectionPublic,
    summary="Share with your team(s); replaces an earlier choice",
)
async def share_reflection(
    reflection_id: uuid.UUID, body: ShareRequest, request: Request, principal: PrincipalDep
) -> ReflectionPublic:
    return await _journal(request).share(principal, reflection_id, body.teams)


@journal.delete(
    "/reflections/{reflection_id}/share",
    response_model=ReflectionPublic,
    summary="Make it private again",
)
async def unshare_reflection(
    reflection_id: uuid.UUID, request: Request, principal: PrincipalDep
) -> ReflectionPublic:
    return await _journal(request).unshare(principal, reflection_id)


@journal.delete(
    "/reflections/{reflection_id}", status_code=204, summary="Delete your reflection for good"
)
async def delete_reflection(
    reflection_id: uuid.UUID, request: Request, principal: PrincipalDep
) -> Response:
    await _journal(request).delete(principal, reflection_id)
    return Response(status_code=204)


@journal.post(
    "/reflections/{reflection_id}/ideas",
    response_model=IdeaDrafted,
    summary="Turn one action of a finished reflection into an idea draft, linked both ways",
)
async def idea_from_action(
    reflection_id: uuid.UUID,
    body: IdeaFromAction,
    request: Request,
    response: Response,
    principal: PrincipalDep,
) -> IdeaDrafted:
    drafted = await idea_drafts.draft_idea(_journal(request), principal, reflection_id, body)
    response.status_code = 201 if drafted.created else 200
    return drafted


@journal.get("/reflection-preferences", response_model=Preferences, summary="Your privacy choices")
async def get_preferences(session: ReadSessionDep, principal: PrincipalDep) -> Preferences:
    """The caller's privacy choice; `share_with_analytics` is true until they choose."""
    stored = await JournalRepository(session).preference(principal.subject)
    return Preferences(share_with_analytics=stored.share_with_analytics if stored else True)


@journal.put(
    "/reflection-preferences", response_model=Preferences, summary="Change your privacy choices"
)
async def put_preferences(
    body: Preferences, session: SessionDep, principal: PrincipalDep
) -> Preferences:
    """Store the caller's privacy choice; answers with it."""
    await JournalRepository(session).set_preference(principal.subject, body.share_with_analytics)
    return body
