"""The discussion under an idea: who may comment, edit and delete, and in which order.

Edits and deletes carry the comment version the caller read (If-Match): a coach deleting a
comment the author just rewrote, or an author editing in two tabs, gets 412 `stale_version`
instead of silently replacing what the other person did. Creates may carry an idempotency key.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from kit.db import utcnow
from kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from services.ideas.idempotency import authored, fingerprint, replay
from services.ideas.models import Comment, CommentCreate, CommentPublic, Idea, Person
from services.ideas.preconditions import StaleVersion
from services.ideas.repository.discussion import CommentsRepository
from services.ideas.service.ideas import IdeasService


def stale_comment(comment: Comment) -> StaleVersion:
    """412 `stale_version` naming the comment's current version and whether it was deleted."""
    return StaleVersion(
        "the comment changed since you read it: reload and try again",
        details={"current_version": comment.version, "deleted": comment.deleted_at is not None},
    )


class Discussion:
    """Comment rules on top of `IdeasService` (its session, principal and visibility)."""

    def __init__(self, ideas: IdeasService) -> None:
        self.ideas = ideas
        self.repo = CommentsRepository(ideas.session)
        self.me = ideas.me

    def present(self, idea: Idea, comment: Comment) -> CommentPublic:
        """The comment as this reader may see it: an anonymous author's own comments hide them."""
        by_author = comment.author_id == idea.author_id
        hidden = idea.anonymous and by_author and not self.ideas.is_author(idea)
        return CommentPublic(
            id=comment.id,
            idea_id=comment.idea_id,
            parent_id=comment.parent_id,
            author=None if hidden else Person(subject=comment.author_id, name=comment.author_name),
            by_idea_author=by_author,
            body=comment.body,
            deleted=comment.deleted_at is not None,
            created_at=comment.created_at,
            edited_at=comment.edited_at,
            version=comment.version,
        )

    async def add(
        self, idea_id: uuid.UUID, data: CommentCreate, idempotency_key: str | None = None
    ) -> tuple[Idea, Comment, bool]:
        """Comment or reply; returns `(idea, comment, created)`. A reused idempotency key gives
        the first comment (`created` False) or 422 `idempotency_key_reused`; 422
        `unknown_parent` / `reply_depth` for a bad parent; 404 for an idea you cannot see —
        read with its row locked, so a concurrent discard of the draft either committed first
        (404) or waits until this comment and its counter are written."""
        idea = await self.ideas.visible(idea_id, lock=True)
        digest = fingerprint(data, str(idea_id)) if idempotency_key else None
        if idempotency_key and digest:
            first = await self.repo.comment_by_key(self.me.subject, idempotency_key)
            if first is not None:
                return idea, replay(first, digest), False
        if data.parent_id is not None:
            parent = await self.repo.comment(idea_id, data.parent_id)
            if parent is None:
                raise Unprocessable(
                    "the comment you reply to is not on this idea", code="unknown_parent"
                )
            if parent.parent_id is not None:
                raise Unprocessable(
                    "replies go one level deep: reply to the first comment", code="reply_depth"
                )
        now = utcnow()
        comment = Comment(
            idea_id=idea_id,
            parent_id=data.parent_id,
            body=data.body,
            created_at=now,
            **authored(self.me, idempotency_key, digest),
        )
        if idempotency_key and digest:
            key = idempotency_key
            comment, created = await self.repo.add_once(
                comment, lambda: self.repo.comment_by_key(self.me.subject, key)
            )
            if not created:
                return idea, replay(comment, digest), False
        await self.repo.add_comment(comment)
        idea = await self.ideas.visible(idea_id)
        await self.ideas.announce("commented", idea, now, comment_id=comment.id)
        return idea, comment, True

    async def _find(self, idea_id: uuid.UUID, comment_id: uuid.UUID) -> tuple[Idea, Comment]:
        idea = await self.ideas.visible(idea_id)
        comment = await self.repo.comment(idea_id, comment_id)
        if comment is None:
            raise NotFound("no such comment", code="comment_not_found")
        return idea, comment

    async def edit(
        self, idea_id: uuid.UUID, comment_id: uuid.UUID, seen_version: int, body: str
    ) -> tuple[Idea, Comment]:
        """Rewrite your comment within the edit window, if it is still at `seen_version`.

        Raises 403 `not_comment_author`, 409 `comment_deleted` / `edit_window_closed`, 412
        `stale_version` (one atomic compare-and-set, so concurrent writers cannot both win)."""
        idea, comment = await self._find(idea_id, comment_id)
        if comment.author_id != self.me.subject:
            raise Forbidden("only its author may edit a comment", code="not_comment_author")
        if comment.deleted_at is not None:
            raise Conflict("the comment was deleted", code="comment_deleted")
        minutes = self.ideas.settings.comment_edit_window_minutes
        if utcnow() - comment.created_at > timedelta(minutes=minutes):
            raise Conflict(
                f"comments can be edited for {minutes} minutes",
                code="edit_window_closed",
            )
        if comment.version != seen_version or not await self.repo.edit_comment(
            comment_id, seen_version, body, utcnow()
        ):
            now = await self._reloaded(idea_id, comment_id)
            if now.deleted_at is not None:  # deleted since it was read: nothing left to edit
                raise Conflict("the comment was deleted", code="comment_deleted")
            raise stale_comment(now)
        return idea, await self._reloaded(idea_id, comment_id)

    async def delete(self, idea_id: uuid.UUID, comment_id: uuid.UUID, seen_version: int) -> None:
        """Soft-delete (the body goes, the place in the thread stays) if the comment is still at
        `seen_version`; deleting a deleted comment is a no-op. Raises 403 `not_comment_author`
        for anyone but its author, a coach of the team or an admin; 412 `stale_version`."""
        idea, comment = await self._find(idea_id, comment_id)
        allowed = (
            comment.author_id == self.me.subject
            or self.ideas.is_team_coach(idea)
            or self.me.is_admin
        )
        if not allowed:
            raise Forbidden(
                "only its author or a coach of the team may delete a comment",
                code="not_comment_author",
            )
        if comment.deleted_at is not None:
            return
        if comment.version != seen_version or not await self.repo.soft_delete_comment(
            comment, seen_version, utcnow()
        ):
            now = await self._reloaded(idea_id, comment_id)
            if now.deleted_at is None:
                raise stale_comment(now)

    async def _reloaded(self, idea_id: uuid.UUID, comment_id: uuid.UUID) -> Comment:
        comment = await self.repo.comment(idea_id, comment_id)
        if comment is None:
            raise NotFound("no such comment", code="comment_not_found")
        return comment

    async def page(
        self, idea_id: uuid.UUID, limit: int, cursor: str | None
    ) -> tuple[list[CommentPublic], str | None]:
        """Up to `limit` comments of the idea, oldest first, after the position in `cursor`, as
        this reader may see them, and the cursor of the next page (None at the end). Raises 404
        `idea_not_found`; 400 `invalid_parameter` naming `cursor` for a cursor this list did not
        hand out (repository/discussion.py CURSOR)."""
        idea = await self.ideas.visible(idea_id)
        rows, next_cursor = await self.repo.comments(idea_id, limit, cursor)
        return [self.present(idea, c) for c in rows], next_cursor
