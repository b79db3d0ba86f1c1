"""REST routes of the ideas service: HTTP in, HTTP out; the rules live in service.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from kit.disconnect import until_disconnected
from kit.errors import NotFound
from services.ideas import personal
from services.ideas.discussion import Discussion
from services.ideas.idempotency import REPLAYED_HEADER, IdempotencyKeyHeader
from services.ideas.models import (
    CommentCreate,
    CommentPublic,
    CommentUpdate,
    DeliveryPublic,
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
    Webhook,
    WebhookCreate,
    WebhookPublic,
)
from services.ideas.preconditions import etag, expected_version
from services.ideas.repository import IdeaFilter, Sort
from services.ideas.semantic import find_similar
from services.ideas.service import IdeasService
from services.ideas.webhooks import check_target, new_secret
from services.ideas.workflow import Status

router = APIRouter(prefix="/v1", tags=["ideas"])
TeamKey = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


async def _service(request: Request, session: SessionDep, principal: PrincipalDep) -> IdeasService:
    return IdeasService(session, principal, request.app.state.settings)


ServiceDep = Annotated[IdeasService, Depends(_service)]


async def _read_service(
    request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> IdeasService:
    return IdeasService(session, principal, request.app.state.settings)


# For POST routes that only read: they never hold SQLite's write lock.
ReadServiceDep = Annotated[IdeasService, Depends(_read_service)]


async def _discussion(service: ServiceDep) -> Discussion:
    return Discussion(service)


DiscussionDep = Annotated[Discussion, Depends(_discussion)]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=40,
        description='The ETag you read (`"<version>"`); required: 428 without it, '
        "a stale one is refused (see the route).",
    ),
]
PRECONDITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    428: {"description": "If-Match missing (`if_match_required`)"},
}


# -- teams --------------------------------------------------------------------------------


@router.get("/teams", response_model=list[TeamPublic], summary="Teams ideas can belong to")
async def list_teams(service: ServiceDep) -> list[TeamPublic]:
    return [TeamPublic(key=t.key, name=t.name) for t in await service.repo.teams()]


@router.put(
    "/teams/{key}",
    response_model=TeamPublic,
    dependencies=[require_roles(Role.admin)],
    summary="Create or rename a team (admins)",
)
async def save_team(key: TeamKey, body: TeamUpsert, service: ServiceDep) -> TeamPublic:
    team = await service.repo.save_team(key, body.name)
    return TeamPublic(key=team.key, name=team.name)


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
    filters = IdeaFilter(
        statuses=status, team=team, tag=tag, mine=mine, following=following, query=q, ids=id
    )
    rows, cursors, next_cursor = await service.page(filters, sort, limit, cursor)
    items = [service.present(idea, supported, following) for idea, supported, following in rows]
    return Page[IdeaPublic](items=items, cursors=cursors, next_cursor=next_cursor)


@router.get("/ideas/{idea_id}", response_model=IdeaPublic, summary="One idea")
async def get_idea(idea_id: uuid.UUID, service: ServiceDep, response: Response) -> IdeaPublic:
    idea = await service.visible(idea_id)
    response.headers["ETag"] = etag(idea.version)
    return await service.present_one(idea)


@router.patch(
    "/ideas/{idea_id}",
    response_model=IdeaPublic,
    summary="Change an idea (If-Match required)",
    responses={412: {"description": "stale version"}, **PRECONDITION_RESPONSES},
)
async def update_idea(
    idea_id: uuid.UUID,
    body: IdeaUpdate,
    service: ServiceDep,
    response: Response,
    if_match: IfMatch = None,
) -> IdeaPublic:
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
    return await service.history(idea_id)


@router.put("/ideas/{idea_id}/support", response_model=IdeaPublic, summary="Support (idempotent)")
async def support_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    return await service.present_one(await service.support(idea_id))


@router.delete("/ideas/{idea_id}/support", response_model=IdeaPublic, summary="Take support back")
async def unsupport_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    return await service.present_one(await service.unsupport(idea_id))


@router.put("/ideas/{idea_id}/follow", response_model=IdeaPublic, summary="Follow (idempotent)")
async def follow_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    return await service.present_one(await service.follow(idea_id, True))


@router.delete("/ideas/{idea_id}/follow", response_model=IdeaPublic, summary="Stop following")
async def unfollow_idea(idea_id: uuid.UUID, service: ServiceDep) -> IdeaPublic:
    return await service.present_one(await service.follow(idea_id, False))


# -- comments -----------------------------------------------------------------------------


@router.get(
    "/ideas/{idea_id}/comments", response_model=Page[CommentPublic], summary="The discussion"
)
async def list_comments(
    idea_id: uuid.UUID,
    service: ServiceDep,
    discussion: DiscussionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: uuid.UUID | None = None,
) -> Page[CommentPublic]:
    idea = await service.visible(idea_id)
    rows = await service.repo.comments(idea_id, limit, cursor)
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    items = [discussion.present(idea, c) for c in rows[:limit]]
    return Page[CommentPublic](items=items, next_cursor=next_cursor)


@router.post(
    "/ideas/{idea_id}/comments",
    status_code=201,
    response_model=CommentPublic,
    summary="Comment, or reply to a comment (one level); Idempotency-Key accepted",
    responses={200: {"description": "a retry with the same Idempotency-Key: the first comment"}},
)
async def add_comment(
    idea_id: uuid.UUID,
    body: CommentCreate,
    discussion: DiscussionDep,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> CommentPublic:
    idea, comment, created = await discussion.add(idea_id, body, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers[REPLAYED_HEADER] = "true"
    response.headers["ETag"] = etag(comment.version)
    return discussion.present(idea, comment)


@router.patch(
    "/ideas/{idea_id}/comments/{comment_id}",
    response_model=CommentPublic,
    summary="Edit your comment within the edit window (If-Match required)",
    responses={412: {"description": "stale version"}, **PRECONDITION_RESPONSES},
)
async def edit_comment(
    idea_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: CommentUpdate,
    discussion: DiscussionDep,
    response: Response,
    if_match: IfMatch = None,
) -> CommentPublic:
    seen = expected_version(if_match)
    idea, comment = await discussion.edit(idea_id, comment_id, seen, body.body)
    response.headers["ETag"] = etag(comment.version)
    return discussion.present(idea, comment)


@router.delete(
    "/ideas/{idea_id}/comments/{comment_id}",
    status_code=204,
    summary="Delete (soft) a comment (If-Match required)",
    responses={412: {"description": "stale version"}, **PRECONDITION_RESPONSES},
)
async def delete_comment(
    idea_id: uuid.UUID, comment_id: uuid.UUID, discussion: DiscussionDep, if_match: IfMatch = None
) -> Response:
    await discussion.delete(idea_id, comment_id, expected_version(if_match))
    return Response(status_code=204)


# -- duplicates ---------------------------------------------------------------------------


@router.post(
    "/ideas/similar",
    response_model=SimilarResult,
    summary="Likely duplicates of a draft, best first",
)
async def similar_ideas(
    body: SimilarRequest, service: ReadServiceDep, request: Request
) -> SimilarResult:
    # Embedding a long draft is the cost: a caller who gave up (the gateway cancels when its
    # own client goes) stops it here, and the call to the reflection service with it.
    return await until_disconnected(request, find_similar(service, body, request.app.state))


# -- webhooks (admins) --------------------------------------------------------------------

admin = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], dependencies=[require_roles(Role.admin)]
)


def _hook(hook: Webhook, secret: str | None = None) -> WebhookPublic:
    return WebhookPublic(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        active=hook.active,
        created_at=hook.created_at,
        secret=secret,
    )


@admin.post("", status_code=201, response_model=WebhookPublic, summary="Register a webhook")
async def create_webhook(
    body: WebhookCreate, service: ServiceDep, request: Request, principal: PrincipalDep
) -> WebhookPublic:
    await check_target(body.url, request.app.state.settings.webhooks_allow_private_targets)
    secret = new_secret()
    hook = Webhook(
        url=body.url, secret=secret, events=sorted(set(body.events)), created_by=principal.subject
    )
    await service.repo.add_webhook(hook)
    return _hook(hook, secret)


@admin.get("", response_model=list[WebhookPublic], summary="Registered webhooks")
async def list_webhooks(service: ServiceDep) -> list[WebhookPublic]:
    return [_hook(h) for h in await service.repo.webhooks()]


@admin.delete("/{hook_id}", status_code=204, summary="Deactivate a webhook")
async def delete_webhook(hook_id: uuid.UUID, service: ServiceDep) -> Response:
    hook = await service.repo.webhook(hook_id)
    if hook is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    hook.active = False
    return Response(status_code=204)


@admin.get(
    "/{hook_id}/deliveries", response_model=list[DeliveryPublic], summary="Recent deliveries"
)
async def list_deliveries(
    hook_id: uuid.UUID, service: ServiceDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[DeliveryPublic]:
    if await service.repo.webhook(hook_id) is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    rows = await service.repo.deliveries(hook_id, limit)
    return [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/my-data", summary="Everything the ideas service holds about you (GDPR export)")
async def export_my_data(session: ReadSessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return await personal.export(session, principal.subject)


@router.delete("/my-data", summary="Erase your data here (GDPR); safe to repeat")
async def erase_my_data(session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
    return await personal.erase(session, principal.subject)
