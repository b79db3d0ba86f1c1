"""Queries about the discussion under an idea. Flushes; the caller's session commits."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.cursors import KeysetCursor
from services.ideas.models import Comment, Idea
from services.ideas.repository.ideas import add_once

# A cursor is (the idea, the last comment's created_at, its id): one of another idea's discussion
# is refused. A bad one answers as when the cursor was a comment id checked by FastAPI: 400
# `invalid_parameter` naming `cursor`.
CURSOR = KeysetCursor(message="invalid parameter: cursor", code="invalid_parameter")


class CommentsRepository:
    """Comments and their ideas' comment counters, in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def comment(self, idea_id: uuid.UUID, comment_id: uuid.UUID) -> Comment | None:
        """The comment on this idea, read afresh, or None."""
        statement = select(Comment).where(Comment.id == comment_id, Comment.idea_id == idea_id)
        result = await self.session.exec(statement.execution_options(populate_existing=True))
        return result.first()

    async def comment_by_key(self, author: str, key: str) -> Comment | None:
        """The comment `author` made with this Idempotency-Key, or None."""
        statement = select(Comment).where(
            Comment.author_id == author, Comment.idempotency_key == key
        )
        return (await self.session.exec(statement)).first()

    async def add_once(
        self, comment: Comment, find: Callable[[], Awaitable[Comment | None]]
    ) -> tuple[Comment, bool]:
        """`repository.ideas.add_once`: `(comment, True)`, or `(the first one, False)`."""
        return await add_once(self.session, comment, find)

    async def edit_comment(self, comment_id: uuid.UUID, seen: int, body: str, at: datetime) -> bool:
        """Compare-and-set on the comment's version: False when it changed since it was read."""
        result = await self.session.exec(
            update(Comment)
            .where(
                col(Comment.id) == comment_id,
                col(Comment.version) == seen,
                col(Comment.deleted_at).is_(None),
            )
            .values(body=body, edited_at=at, version=col(Comment.version) + 1)
        )
        return bool(result.rowcount)

    async def add_comment(self, comment: Comment) -> None:
        """Insert the comment and count it on its idea."""
        self.session.add(comment)
        await self.session.flush()
        await count_comments(self.session, comment.idea_id, +1)

    async def soft_delete_comment(self, comment: Comment, seen: int, at: datetime) -> bool:
        """Empty the comment if it is still at version `seen` and not deleted yet, and stop
        counting it; False when it changed or was deleted meanwhile."""
        result = await self.session.exec(
            update(Comment)
            .where(
                col(Comment.id) == comment.id,
                col(Comment.version) == seen,
                col(Comment.deleted_at).is_(None),
            )
            .values(deleted_at=at, body=None, version=col(Comment.version) + 1)
        )
        if result.rowcount:
            await count_comments(self.session, comment.idea_id, -1)
        return bool(result.rowcount)

    async def comments(
        self, idea_id: uuid.UUID, limit: int, cursor: str | None
    ) -> tuple[list[Comment], str | None]:
        """Up to `limit` comments of the idea, oldest first (ties by id), after the position in
        `cursor`, and the cursor of the next page (None at the end). Raises InvalidCursor (400
        `invalid_parameter` naming `cursor`) for a token this list did not hand out, also one of
        another idea's discussion or an old comment-id cursor."""
        statement = select(Comment).where(Comment.idea_id == idea_id)
        if cursor is not None:
            of_idea, created_at, last_id = CURSOR.decode(cursor, (uuid.UUID, datetime, uuid.UUID))
            if of_idea != idea_id:
                raise CURSOR.refuse()
            statement = statement.where(
                or_(
                    col(Comment.created_at) > created_at,
                    and_(col(Comment.created_at) == created_at, col(Comment.id) > last_id),
                )
            )
        statement = statement.order_by(col(Comment.created_at), col(Comment.id)).limit(limit + 1)
        rows = list((await self.session.exec(statement)).all())
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1]
        return rows[:limit], CURSOR.encode((idea_id, last.created_at, last.id))


async def count_comments(session: AsyncSession, idea_id: uuid.UUID, step: int) -> None:
    """Move the idea's `comment_count` by `step` (+1 for a new comment, -1 for a deleted one)."""
    await session.exec(
        update(Idea)
        .where(col(Idea.id) == idea_id)
        .values(comment_count=col(Idea.comment_count) + step)
    )
