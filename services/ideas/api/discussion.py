"""REST routes of the discussion under an idea: HTTP in, HTTP out (service/discussion.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.ideas.api.dependencies import VERSIONED_WRITE_RESPONSES, DiscussionDep, IfMatch
from services.ideas.idempotency import REPLAYED_HEADER, IdempotencyKeyHeader
from services.ideas.models import CommentCreate, CommentPublic, CommentUpdate, Page
from services.ideas.preconditions import etag, expected_version

router = APIRouter(prefix="/v1", tags=["ideas"])


@router.get(
    "/ideas/{idea_id}/comments", response_model=Page[CommentPublic], summary="The discussion"
)
async def list_comments(
    idea_id: uuid.UUID,
    discussion: DiscussionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[CommentPublic]:
    """A page of comments, oldest first; `next_cursor` resumes. 404 `idea_not_found`; 400
    `invalid_parameter` naming `cursor` for a cursor this list did not hand out."""
    items, next_cursor = await discussion.page(idea_id, limit, cursor)
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
    """201 and the comment; a retry with the same Idempotency-Key: 200 and the first comment.
    404 `idea_not_found`; 422 `unknown_parent`, `reply_depth`, `idempotency_key_reused`."""
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
    responses=VERSIONED_WRITE_RESPONSES,
)
async def edit_comment(
    idea_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: CommentUpdate,
    discussion: DiscussionDep,
    response: Response,
    if_match: IfMatch = None,
) -> CommentPublic:
    """The edited comment and its new ETag. 403 `not_comment_author`, 409 `comment_deleted` /
    `edit_window_closed`, 412 `stale_version`, 428 `if_match_required`."""
    seen = expected_version(if_match)
    idea, comment = await discussion.edit(idea_id, comment_id, seen, body.body)
    response.headers["ETag"] = etag(comment.version)
    return discussion.present(idea, comment)


@router.delete(
    "/ideas/{idea_id}/comments/{comment_id}",
    status_code=204,
    summary="Delete (soft) a comment (If-Match required)",
    responses=VERSIONED_WRITE_RESPONSES,
)
async def delete_comment(
    idea_id: uuid.UUID, comment_id: uuid.UUID, discussion: DiscussionDep, if_match: IfMatch = None
) -> Response:
    """204, also for a comment already deleted. 403 `not_comment_author`, 412
    `stale_version`, 428 `if_match_required`."""
    await discussion.delete(idea_id, comment_id, expected_version(if_match))
    return Response(status_code=204)
