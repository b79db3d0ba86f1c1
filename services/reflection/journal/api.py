"""REST routes of the reflection journal: reflection models, reflections, their stages, shares
and ideas, and the author's privacy choice. Routes only: parse, call the service, present.

Reading routes take the request's read-only session; changing routes also take its write
session, which the service touches only after its slow work (service.py, "One transaction
model"). `POST /v1/reflections` and `POST /v1/reflections/{id}/answers` answer with JSON, or with
server-sent events when the client sends `Accept: text/event-stream` (streaming.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from kit.auth import Principal, PrincipalDep
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
from services.reflection.journal.streaming import StreamableDep

journal = APIRouter(prefix="/v1", tags=["reflections"])
STREAMED = {
    "content": {"text/event-stream": {}},
    "description": "With `Accept: text/event-stream`: the question streamed as it is made.",
}


def _journal(request: Request) -> Journal:
    service: Journal = request.app.state.journal
    return service


JournalDep = Annotated[Journal, Depends(_journal)]


@dataclass(frozen=True)
class OnOne:
    """A call about one reflection: the service, who is calling, and which reflection."""

    service: Journal
    principal: Principal
    reflection_id: uuid.UUID


def _on_one(reflection_id: uuid.UUID, service: JournalDep, principal: PrincipalDep) -> OnOne:
    return OnOne(service, principal, reflection_id)


OnOneDep = Annotated[OnOne, Depends(_on_one)]
ONE = "/reflections/{reflection_id}"


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
    streamable: StreamableDep,
) -> ReflectionPublic | Response:
    """Starts a reflection and asks its first stage: 201 with the reflection as JSON, or 200 as
    server-sent events with `Accept: text/event-stream`. 422 `unknown_reflection_model` for a
    model that does not exist."""
    service.check_start(body)
    await ensure_connected(request)  # retrieval and the guide are the cost: none for a lost caller
    return await streamable.answer(lambda r, s, sink: service.start(r, s, principal, body, sink))


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
    """A page of your reflections (`scope=mine`) or of those shared with your teams
    (`scope=shared`), newest first; `next_cursor` resumes. 400 `bad_cursor` for a cursor this
    API did not give out."""
    return await service.page(session, principal, scope, limit, cursor, id or None)


@journal.get(
    ONE, response_model=ReflectionPublic, summary="One reflection: yours, or shared with your team"
)
async def get_reflection(call: OnOneDep, session: ReadSessionDep) -> ReflectionPublic:
    """The reflection, if it is yours or shared with one of your teams; 404 otherwise."""
    return await call.service.present(session, call.principal, call.reflection_id)


@journal.post(
    ONE + "/answers",
    response_model=ReflectionPublic,
    responses={200: STREAMED},
    summary="Answer the current stage; answers with the next stage's question",
)
async def answer_stage(
    call: OnOneDep, body: AnswerCreate, request: Request, streamable: StreamableDep
) -> ReflectionPublic | Response:
    """Answers the current stage and asks the next, as JSON or streamed. 409
    `stage_out_of_order` when `stage` is not the one waiting (also when a racing answer came
    first), `stages_complete` or `reflection_finished`; checked before anything is streamed."""
    service, principal = call.service, call.principal
    checked = await service.check_answer(
        streamable.reads, principal, call.reflection_id, body.stage
    )
    await ensure_connected(request)
    return await streamable.answer(
        lambda r, s, sink: service.answer(r, s, principal, checked, body.answer, sink)
    )


@journal.post(
    ONE + "/finish",
    response_model=ReflectionPublic,
    summary="Finish: a summary of what happened, learning points and actions, with citations",
)
async def finish_reflection(
    call: OnOneDep, reads: ReadSessionDep, session: SessionDep
) -> ReflectionPublic:
    """Finishes the reflection with a summary, learning points and actions, citing passages.
    409 `stages_unanswered` while stages wait, `reflection_finished` when done already."""
    return await call.service.finish(reads, session, call.principal, call.reflection_id)


@journal.put(
    ONE + "/share",
    response_model=ReflectionPublic,
    summary="Share with your team(s); replaces an earlier choice",
)
async def share_reflection(
    call: OnOneDep, body: ShareRequest, session: SessionDep
) -> ReflectionPublic:
    """Shares your reflection with the given teams of yours (read-only for them), replacing an
    earlier choice. 422 `no_team` or `not_your_team`."""
    return await call.service.share(session, call.principal, call.reflection_id, body.teams)


@journal.delete(ONE + "/share", response_model=ReflectionPublic, summary="Make it private again")
async def unshare_reflection(call: OnOneDep, session: SessionDep) -> ReflectionPublic:
    """Makes your reflection private again; the reflection as it is now."""
    return await call.service.unshare(session, call.principal, call.reflection_id)


@journal.delete(ONE, status_code=204, summary="Delete your reflection for good")
async def delete_reflection(call: OnOneDep, session: SessionDep) -> Response:
    """Deletes your reflection for good, with its stages and shares; 204 without a body, 404
    when it is not yours."""
    await call.service.delete(session, call.principal, call.reflection_id)
    return Response(status_code=204)


@journal.post(
    ONE + "/ideas",
    response_model=IdeaDrafted,
    summary="Turn one action of a finished reflection into an idea draft, linked both ways",
)
async def idea_from_action(
    call: OnOneDep,
    body: IdeaFromAction,
    response: Response,
    reads: ReadSessionDep,
    session: SessionDep,
) -> IdeaDrafted:
    """Turns one action of your finished reflection into an idea draft in the ideas service:
    201 when this call made the draft, 200 when it was made before (the same draft)."""
    drafted = await idea_drafts.draft_idea(
        call.service, reads, session, call.principal, call.reflection_id, body
    )
    response.status_code = 201 if drafted.created else 200
    return drafted


@journal.get("/reflection-preferences", response_model=Preferences, summary="Your privacy choices")
async def get_preferences(
    service: JournalDep, principal: PrincipalDep, session: ReadSessionDep
) -> Preferences:
    """Your privacy choice: whether analytics may count your reflections."""
    return Preferences(share_with_analytics=await service.preferences(session, principal))


@journal.put(
    "/reflection-preferences", response_model=Preferences, summary="Change your privacy choices"
)
async def put_preferences(
    body: Preferences, service: JournalDep, principal: PrincipalDep, session: SessionDep
) -> Preferences:
    """Changes your privacy choice; answers with the choice stored."""
    await service.set_preferences(session, principal, body.share_with_analytics)
    return body
