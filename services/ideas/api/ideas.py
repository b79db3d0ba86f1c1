"""REST routes of ideas, teams, duplicates and one's own data: HTTP in, HTTP out; the rules
live in service/."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from kit.disconnect import until_disconnected
from services.ideas import gdpr
from services.ideas.api.dependencies import (
    PRECONDITION_RESPONSES,
    VERSIONED_WRITE_RESPONSES,
    IfMatch,
    ReadServiceDep,
    ServiceDep,
)
from services.ideas.fields import Status
from services.ideas.idempotency import REPLAYED_HEADER, IdempotencyKeyHeader
from services.ideas.models import (
    IdeaCreate,
    IdeaPublic,
    IdeaUpdate,
    Page,
    SimilarRequest,
    SimilarResult,
    TeamPublic,
    TeamUpsert,
    TransitionCreate,
    TransitionPublic,
)
from services.ideas.preconditions import etag, expected_version
from services.ideas.repository.ideas import IdeaFilter, Sort
from services.ideas.service.duplicates import find_similar
from services.ideas.service.teams import TeamsService

router = APIRouter(prefix="/v1", tags=["ideas"])
TeamKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


# -- teams --------------------------------------------------------------------------------


async def _teams(session: SessionDep, _: PrincipalDep) -> TeamsService:
    return TeamsService(session)


TeamsDep = Annotated[TeamsService, Depends(_teams)]


@router.get("/teams", response_model=list[TeamPublic], summary="Teams ideas can belong to")
async def list_teams(teams: TeamsDep) -> list[TeamPublic]:
    """Every team, by key."""
    return await teams.all()


@router.put(
    "/teams/{key}",
    response_model=TeamPublic,
    dependencies=[require_roles(Role.admin)],
    summary="Create or rename a team (admins)",
)
async def save_team(key: TeamKey, body: TeamUpsert, teams: TeamsDep) -> TeamPublic:
    """The team as saved."""
    return await teams.save(key, body.name)


# -- ideas --------------------------------------------------------------------------------


@router.post(
    "/ideas",
    status_code=201,
    response_model=IdeaPublic,
    summary="Capture an idea (Idempotency-Key: a retry returns the first idea)",
    responses={
        200: {"description": "a retry with the same Idempotency-Key and body: the first idea"},
        422: {"description": "invalid, or `idempotency_key_reused` with another body"},
    },
)
async def create_idea(
    body: IdeaCreate,
    service: ServiceDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> IdeaPublic:
    """201, the idea and its ETag; a retry with the same Idempotency-Key and body: 200 and the
    first idea. 422 `validation_error`, `unknown_team`, `idempotency_key_reused`."""
    idea, created = await service.create(body, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"
    response.headers["ETag"] = etag(idea.version)
    response.headers["Location"] = f"/v1/ideas/{idea.id}"
    return await service.present_one(idea)


@router.get("/ideas", response_model=Page[IdeaPublic], summary="List and search ideas")
async def list_ideas(
    service: ServiceDep,
    status: Annotated[list[Status], Query()] = [],  # noqa: B006 - FastAPI copies it
    team: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    mine: bool = False,
    following: bool = False,
    q: Annotated[str | None, Query(max_length=200, description="Words that must all occur")] = None,
    id: Annotated[list[uuid.UUID], Query(max_length=100, description="Only these ideas")] = [],  # noqa: B006
    sort: Sort = Sort.newest,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[IdeaPublic]:
    """A page of the ideas the caller may see, with per-item cursors. 400 `invalid_cursor`."""
    filters = IdeaFilter(
        statuses=status, team=team, tag=tag, mine=mine, following=following, query=q, ids=id
    )
    rows, cursors, next_cursor = await service.page(filters, sort, limit, cursor)
    items = [service.present(idea, supported, following) for idea, supported, following in rows]
    return Page[IdeaPublic](items=items, cursors=cursors, next_cursor=next_cursor)


@router.get("/ideas/{idea_id}", response_model=IdeaPublic, summary="One idea")
async def get_idea(idea_id: uuid.UUID, service: ServiceDep, response: Response) -> IdeaPublic:
    """The idea and its ETag; 404 `idea_not_found` (also someone else's draft)."""
    idea = await service.visible(idea_id)
    response.headers["ETag"] = etag(idea.version)
    return await service.present_one(idea)


@router.patch(
    "/ideas/{idea_id}",
    response_model=IdeaPublic,
    summary="Change an idea (If-Match required)",
    responses=VERSIONED_WRITE_RESPONSES,
)
async def update_idea(
    idea_id: uuid.UUID,
    body: IdeaUpdate,
    service: ServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> IdeaPublic:
    """The changed idea and its new ETag. 403, 404, 409 `idea_not_editable` /
    `impact_not_recordable`, 412 `stale_version`, 422 `empty_update`, 428."""
    idea = await service.update(idea_id, expected_version(if_match), body)
    response.headers["ETag"] = etag(idea.version)
    return await service.present_one(idea)


@router.delete(
    "/ideas/{idea_id}",
    status_code=204,
    summary="Discard your own draft for good (If-Match required)",
    responses={409: {"description": "`idea_not_draft`"}, 412: {"description": "stale version"}},
)
async def discard_idea(
    idea_id: uuid.UUID, service: ServiceDep, if_match: IfMatch = None
) -> Response:
    """204. 404 `idea_not_found`, 409 `idea_not_draft`, 412 `stale_version`, 428."""
    await service.discard(idea_id, expected_version(if_match))
    return Response(status_code=204)


@router.post(
    "/ideas/{idea_id}/transitions",
    response_model=IdeaPublic,
    summary="Move an idea through the workflow (If-Match required)",
    responses={
        409: {"description": "`transition_conflict`: changed since read; or not allowed"},
        **PRECONDITION_RESPONSES,
    },
)
async def transition_idea(
    idea_id: uuid.UUID,
    body: TransitionCreate,
    service: ServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> IdeaPublic:
    """The moved idea and its new ETag. 403 `transition_forbidden`, 404, 409
    `transition_conflict` / `transition_not_allowed`, 422 `reason_required`, 428."""
    seen = expected_version(if_match)
    idea = await service.transition(idea_id, body.to, body.reason, seen)
    response.headers["ETag"] = etag(idea.version)
    return await service.present_one(idea)


@router.get(
    "/ideas/{idea_id}/transitions",
    response_model=list[TransitionPublic],
    summary="The idea's full workflow history",
)
async def idea_history(idea_id: uuid.UUID, service: ServiceDep) -> list[TransitionPublic]:
    """Every move, oldest first; the anonymous author's own moves name nobody. 404."""
    return await service.history(idea_id)


@router.put("/ideas/{idea_id}/support", response_model=IdeaPublic, summary="Support (idempotent)")
async def support_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    """The idea. 404; 409 `own_idea`, `idea_not_open`."""
    return await service.present_one(await service.support(idea_id))


@router.delete("/ideas/{idea_id}/support", response_model=IdeaPublic, summary="Take support back")
async def unsupport_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    """The idea; 404 `idea_not_found`."""
    return await service.present_one(await service.unsupport(idea_id))


@router.put("/ideas/{idea_id}/follow", response_model=IdeaPublic, summary="Follow (idempotent)")
async def follow_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    """The idea; 404 `idea_not_found`."""
    return await service.present_one(await service.follow(idea_id, True))


@router.delete("/ideas/{idea_id}/follow", response_model=IdeaPublic, summary="Stop following")
async def unfollow_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    """The idea; 404 `idea_not_found`."""
    return await service.present_one(await service.follow(idea_id, False))


# -- duplicates ---------------------------------------------------------------------------


@router.post(
    "/ideas/similar",
    response_model=SimilarResult,
    summary="Likely duplicates of a draft, best first",
)
async def similar_ideas(
    body: SimilarRequest, service: ReadServiceDep, request: Request
) -> SimilarResult:
    """Likely duplicates, best first; `semantic` false when only words were compared."""
    # Embedding a long draft is the cost: a caller who gave up (the gateway cancels when its
    # own client goes) stops it here, and the call to the reflection service with it.
    return await until_disconnected(request, find_similar(service, body, request.app.state))


@router.get("/my-data", summary="Everything the ideas service holds about you (GDPR export)")
async def export_my_data(session: ReadSessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The caller's ideas, comments, supports, follows and workflow moves (JSON)."""
    return await gdpr.export(session, principal.subject)


@router.delete("/my-data", summary="Erase your data here (GDPR); safe to repeat")
async def erase_my_data(session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
    """How many rows of each kind were erased or anonymised."""
    return await gdpr.erase(session, principal.subject)
