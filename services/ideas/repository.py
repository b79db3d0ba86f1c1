"""Every query of the ideas service. Repositories flush; the request's session commits."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, false, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_ignoring_duplicates, utcnow
from services.ideas.cursors import InvalidCursor, Sort, decode_cursor, encode_cursor, sort_column
from services.ideas.models import (
    Comment,
    Follow,
    Idea,
    IdeaTransition,
    Support,
    Team,
    Webhook,
    WebhookDelivery,
)
from services.ideas.text import like_escape, terms
from services.ideas.workflow import NOT_SUPPORTABLE, IdeaNotOpen, Status


@dataclass(frozen=True)
class IdeaFilter:
    statuses: Sequence[Status] = ()
    team: str | None = None
    tag: str | None = None
    mine: bool = False
    following: bool = False
    query: str | None = None
    ids: Sequence[uuid.UUID] = ()


R = TypeVar("R", Idea, Comment)


def visible_to(viewer: str) -> ColumnElement[bool]:
    """Drafts are their author's alone; every other idea is visible to every colleague."""
    return or_(col(Idea.status) != Status.draft.value, col(Idea.author_id) == viewer)


class IdeasRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- teams --
    async def team(self, key: str) -> Team | None:
        return await self.session.get(Team, key)

    async def teams(self) -> Sequence[Team]:
        return (await self.session.exec(select(Team).order_by(col(Team.key)))).all()

    async def save_team(self, key: str, name: str) -> Team:
        team = await self.session.get(Team, key)
        if team is None:
            team = Team(key=key, name=name)
            self.session.add(team)
        else:
            team.name = name
        await self.session.flush()
        return team

    # -- ideas --
    async def get(self, idea_id: uuid.UUID, *, for_update: bool = False) -> Idea | None:
        statement = select(Idea).where(Idea.id == idea_id)
        if for_update:
            statement = statement.with_for_update()
        result = await self.session.exec(statement.execution_options(populate_existing=True))
        return result.first()

    async def add(self, idea: Idea) -> Idea:
        self.session.add(idea)
        await self.session.flush()
        return idea

    async def add_once(self, row: R, find: Callable[[], Awaitable[R | None]]) -> tuple[R, bool]:
        """Insert a row that carries an idempotency key, in a savepoint: `(row, True)`, or
        `(the row a concurrent retry inserted first, False)` when the unique key was taken."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            first = await find()
            if first is None:
                raise
            return first, False
        return row, True

    async def idea_by_key(self, author: str, key: str) -> Idea | None:
        statement = select(Idea).where(Idea.author_id == author, Idea.idempotency_key == key)
        return (await self.session.exec(statement)).first()

    async def comment_by_key(self, author: str, key: str) -> Comment | None:
        statement = select(Comment).where(
            Comment.author_id == author, Comment.idempotency_key == key
        )
        return (await self.session.exec(statement)).first()

    async def update_if_version(
        self, idea_id: uuid.UUID, expected_version: int, values: dict[str, Any]
    ) -> bool:
        """Compare-and-set on the version: False when someone else changed the idea first."""
        result = await self.session.exec(
            update(Idea)
            .where(col(Idea.id) == idea_id, col(Idea.version) == expected_version)
            .values(**values, version=col(Idea.version) + 1)
        )
        return bool(result.rowcount)

    async def move(
        self, idea_id: uuid.UUID, seen_version: int, from_status: Status, values: dict[str, Any]
    ) -> bool:
        """Change status only if the idea is still at the version (and status) the caller saw:
        one atomic UPDATE, so of two concurrent reviewers exactly one wins, on every backend."""
        result = await self.session.exec(
            update(Idea)
            .where(
                col(Idea.id) == idea_id,
                col(Idea.version) == seen_version,
                col(Idea.status) == from_status.value,
            )
            .values(**values, version=col(Idea.version) + 1)
        )
        return bool(result.rowcount)

    async def delete_draft(self, idea_id: uuid.UUID, seen_version: int) -> bool:
        """Delete a draft with everything attached to it, if it is still a draft at
        `seen_version`; its row is locked first, so a concurrent submit or edit either lands
        before (then False, nothing deleted) or finds it gone."""
        locked = select(Idea.id).where(
            col(Idea.id) == idea_id,
            col(Idea.version) == seen_version,
            col(Idea.status) == Status.draft.value,
        )
        if (await self.session.exec(locked.with_for_update())).first() is None:
            return False
        for table, column in (
            (IdeaTransition, IdeaTransition.idea_id),
            (Support, Support.idea_id),
            (Follow, Follow.idea_id),
        ):
            await self.session.exec(delete(table).where(col(column) == idea_id))
        replies = col(Comment.parent_id).is_not(None)  # a comment's parent must outlive it
        await self.session.exec(delete(Comment).where(col(Comment.idea_id) == idea_id, replies))
        await self.session.exec(delete(Comment).where(col(Comment.idea_id) == idea_id))
        await self.session.exec(delete(Idea).where(col(Idea.id) == idea_id))
        return True

    async def add_transition(self, transition: IdeaTransition) -> None:
        self.session.add(transition)
        await self.session.flush()

    async def transitions(self, idea_id: uuid.UUID) -> Sequence[IdeaTransition]:
        statement = (
            select(IdeaTransition)
            .where(IdeaTransition.idea_id == idea_id)
            .order_by(col(IdeaTransition.at), col(IdeaTransition.id))
        )
        return (await self.session.exec(statement)).all()

    async def page(
        self, viewer: str, filters: IdeaFilter, sort: Sort, limit: int, cursor: str | None
    ) -> tuple[list[tuple[Idea, bool, bool]], list[str], str | None]:
        """One page, each idea with whether the viewer supports and follows it: one query."""
        supported = (
            select(Support.idea_id)
            .where(col(Support.idea_id) == col(Idea.id), Support.person_id == viewer)
            .exists()
        )
        following = (
            select(Follow.idea_id)
            .where(col(Follow.idea_id) == col(Idea.id), Follow.person_id == viewer)
            .exists()
        )
        statement = select(Idea, supported, following).where(visible_to(viewer))
        if filters.statuses:
            statement = statement.where(col(Idea.status).in_([s.value for s in filters.statuses]))
        if filters.team:
            statement = statement.where(Idea.team == filters.team)
        if filters.tag:
            statement = statement.where(
                col(Idea.tag_index).like(f"%|{like_escape(filters.tag)}|%", escape="\\")
            )
        if filters.mine:
            statement = statement.where(Idea.author_id == viewer)
        if filters.following:
            followed = select(Follow.idea_id).where(Follow.person_id == viewer)
            statement = statement.where(col(Idea.id).in_(followed))
        if filters.ids:
            statement = statement.where(col(Idea.id).in_(list(filters.ids)))
        if filters.query is not None:
            words = terms(filters.query)
            if not words:
                statement = statement.where(false())
            for word in words:
                statement = statement.where(
                    col(Idea.search_text).like(f"%{like_escape(word)}%", escape="\\")
                )
        key = sort_column(sort)
        if cursor:
            value, last_id = decode_cursor(cursor, sort)
            statement = statement.where(
                or_(key < value, and_(key == value, col(Idea.id) < last_id))
            )
        statement = statement.order_by(key.desc(), col(Idea.id).desc()).limit(limit + 1)
        rows = [
            (idea, bool(sup), bool(fol)) for idea, sup, fol in (await self.session.exec(statement))
        ]
        page = rows[:limit]
        cursors = [encode_cursor(idea, sort) for idea, _, _ in page]
        return page, cursors, cursors[-1] if len(rows) > limit else None

    async def candidates(
        self, viewer: str, words: list[str], team: str | None, cap: int
    ) -> Sequence[Idea]:
        """Ideas sharing at least one word stem with a draft: the pool duplicates come from."""
        if not words:
            return []
        matches = [
            col(Idea.search_text).like(f"%{like_escape(word)}%", escape="\\") for word in words
        ]
        statement = select(Idea).where(
            visible_to(viewer),
            col(Idea.status).not_in([Status.withdrawn.value, Status.draft.value]),
            or_(*matches),
        )
        if team:
            statement = statement.where(Idea.team == team)
        statement = statement.order_by(col(Idea.updated_at).desc()).limit(cap)
        return (await self.session.exec(statement)).all()

    async def all_visible(self, viewer: str, team: str | None, cap: int) -> Sequence[Idea]:
        statement = select(Idea).where(
            visible_to(viewer),
            col(Idea.status).not_in([Status.withdrawn.value, Status.draft.value]),
        )
        if team:
            statement = statement.where(Idea.team == team)
        statement = statement.order_by(col(Idea.updated_at).desc()).limit(cap)
        return (await self.session.exec(statement)).all()

    # -- support and follow: counters move only when a row really came or went --
    async def _add_mark(
        self, table: type[Support] | type[Follow], idea_id: uuid.UUID, person: str, *moves: Any
    ) -> bool:
        """Insert the mark and raise the counter (`moves[0]`) where `moves[1:]` still hold,
        else `IdeaNotOpen` (the request rolls back, the mark row with it)."""
        insert = insert_ignoring_duplicates(self.session, table).values(
            idea_id=idea_id, person_id=person, created_at=utcnow()
        )
        added = bool((await self.session.exec(insert)).rowcount)
        if added:
            counter, *only_if = moves
            moved = await self.session.exec(
                update(Idea).where(col(Idea.id) == idea_id, *only_if).values({counter: counter + 1})
            )
            if not moved.rowcount:
                raise IdeaNotOpen("the idea left an open state while it was being supported")
        return added

    async def _remove_mark(
        self, table: type[Support] | type[Follow], idea_id: uuid.UUID, person: str, counter: Any
    ) -> bool:
        removed = await self.session.exec(
            delete(table).where(col(table.idea_id) == idea_id, col(table.person_id) == person)
        )
        if removed.rowcount:
            await self.session.exec(
                update(Idea).where(col(Idea.id) == idea_id).values({counter: counter - 1})
            )
        return bool(removed.rowcount)

    async def add_support(self, idea_id: uuid.UUID, person: str) -> bool:
        """True for a new support; `IdeaNotOpen` if the idea is a draft or withdrawn."""
        still_open = col(Idea.status).not_in([s.value for s in NOT_SUPPORTABLE])
        return await self._add_mark(Support, idea_id, person, col(Idea.support_count), still_open)

    async def remove_support(self, idea_id: uuid.UUID, person: str) -> bool:
        return await self._remove_mark(Support, idea_id, person, col(Idea.support_count))

    async def add_follow(self, idea_id: uuid.UUID, person: str) -> bool:
        return await self._add_mark(Follow, idea_id, person, col(Idea.follower_count))

    async def remove_follow(self, idea_id: uuid.UUID, person: str) -> bool:
        return await self._remove_mark(Follow, idea_id, person, col(Idea.follower_count))

    async def marks(
        self, person: str, idea_ids: list[uuid.UUID]
    ) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
        """Which of these ideas the person supports, and which they follow: two queries a page."""
        if not idea_ids:
            return set(), set()
        supported = await self.session.exec(
            select(Support.idea_id).where(
                Support.person_id == person, col(Support.idea_id).in_(idea_ids)
            )
        )
        followed = await self.session.exec(
            select(Follow.idea_id).where(
                Follow.person_id == person, col(Follow.idea_id).in_(idea_ids)
            )
        )
        return set(supported.all()), set(followed.all())

    # -- comments --
    async def comment(self, idea_id: uuid.UUID, comment_id: uuid.UUID) -> Comment | None:
        statement = select(Comment).where(Comment.id == comment_id, Comment.idea_id == idea_id)
        result = await self.session.exec(statement.execution_options(populate_existing=True))
        return result.first()

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
        self.session.add(comment)
        await self.session.flush()
        await self.session.exec(
            update(Idea)
            .where(col(Idea.id) == comment.idea_id)
            .values(comment_count=col(Idea.comment_count) + 1)
        )

    async def soft_delete_comment(self, comment: Comment, seen: int, at: datetime) -> bool:
        """Empty the comment if it is still at version `seen` and not deleted yet."""
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
            await self.session.exec(
                update(Idea)
                .where(col(Idea.id) == comment.idea_id)
                .values(comment_count=col(Idea.comment_count) - 1)
            )
        return bool(result.rowcount)

    async def comments(
        self, idea_id: uuid.UUID, limit: int, after: uuid.UUID | None
    ) -> list[Comment]:
        statement = select(Comment).where(Comment.idea_id == idea_id)
        if after is not None:
            anchor = await self.session.get(Comment, after)
            if anchor is None or anchor.idea_id != idea_id:
                raise InvalidCursor("the cursor is not one this list handed out")
            statement = statement.where(
                or_(
                    col(Comment.created_at) > anchor.created_at,
                    and_(col(Comment.created_at) == anchor.created_at, col(Comment.id) > anchor.id),
                )
            )
        statement = statement.order_by(col(Comment.created_at), col(Comment.id)).limit(limit + 1)
        return list((await self.session.exec(statement)).all())

    # -- webhooks --
    async def add_webhook(self, hook: Webhook) -> None:
        self.session.add(hook)
        await self.session.flush()

    async def webhooks(self) -> Sequence[Webhook]:
        return (await self.session.exec(select(Webhook).order_by(col(Webhook.created_at)))).all()

    async def webhook(self, hook_id: uuid.UUID) -> Webhook | None:
        return await self.session.get(Webhook, hook_id)

    async def deliveries(self, hook_id: uuid.UUID, limit: int) -> Sequence[WebhookDelivery]:
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook_id)
            .order_by(col(WebhookDelivery.created_at).desc())
            .limit(limit)
        )
        return (await self.session.exec(statement)).all()
