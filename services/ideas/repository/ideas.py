"""Queries about ideas: teams, ideas, their history, supports and follows, list pages, the
pools duplicates come from and their cached vectors. Flushes; the caller's session commits."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, false, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.cursors import KeysetCursor
from kit.db import insert_ignoring_duplicates, utcnow
from services.ideas.fields import Status
from services.ideas.models import (
    Comment,
    Follow,
    Idea,
    IdeaEmbedding,
    IdeaTransition,
    Support,
    Team,
)
from services.ideas.service.workflow import NOT_SUPPORTABLE, IdeaNotOpen
from services.ideas.text import like_escape, terms


class Sort(StrEnum):
    """The orders of the ideas list, newest (or most) first; ties broken by id."""

    newest = "newest"
    most_supported = "most_supported"
    recently_updated = "recently_updated"


# A cursor is (sort, the last idea's sort value, its id): one of another order is refused.
CURSOR = KeysetCursor()
SORT_KEYS: dict[Sort, tuple[Any, type]] = {
    Sort.newest: (col(Idea.created_at), datetime),
    Sort.most_supported: (col(Idea.support_count), int),
    Sort.recently_updated: (col(Idea.updated_at), datetime),
}


def encode_cursor(idea: Idea, sort: Sort) -> str:
    """The opaque cursor that resumes the `sort` list after `idea`."""
    return CURSOR.encode((sort.value, getattr(idea, SORT_KEYS[sort][0].key), idea.id))


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, uuid.UUID]:
    """`(sort value, idea id)` of a cursor of the `sort` list (a datetime, or a count for
    `most_supported`). Raises InvalidCursor (400 `invalid_cursor` naming `cursor`) for a token
    this list did not hand out, also one of another sort order."""
    name, value, last_id = CURSOR.decode(cursor, (str, SORT_KEYS[sort][1], uuid.UUID))
    if name != sort.value:
        raise CURSOR.refuse()
    return value, last_id


@dataclass(frozen=True)
class IdeaFilter:
    """What the ideas list is narrowed to; every given filter must hold."""

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


async def add_once(
    session: AsyncSession, row: R, find: Callable[[], Awaitable[R | None]]
) -> tuple[R, bool]:
    """Insert a row that carries an idempotency key, in a savepoint: `(row, True)`, or
    `(the row a concurrent retry inserted first, False)` when the unique key was taken.
    Re-raises the IntegrityError when something else collided."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        first = await find()
        if first is None:
            raise
        return first, False
    return row, True


class IdeasRepository:
    """Queries about ideas in one session (the request's, or a unit of work's)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- teams --
    async def team(self, key: str) -> Team | None:
        """The team `key`, or None."""
        return await self.session.get(Team, key)

    async def teams(self) -> Sequence[Team]:
        """Every team, by key."""
        return (await self.session.exec(select(Team).order_by(col(Team.key)))).all()

    async def save_team(self, key: str, name: str) -> Team:
        """Create the team `key` with `name`, or rename it; the team."""
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
        """The idea read afresh, or None; `for_update` locks its row (FOR UPDATE on
        PostgreSQL) until the transaction ends."""
        statement = select(Idea).where(Idea.id == idea_id)
        if for_update:
            statement = statement.with_for_update()
        result = await self.session.exec(statement.execution_options(populate_existing=True))
        return result.first()

    async def add(self, idea: Idea) -> Idea:
        """Insert the idea; returns it."""
        self.session.add(idea)
        await self.session.flush()
        return idea

    async def add_once(
        self, idea: Idea, find: Callable[[], Awaitable[Idea | None]]
    ) -> tuple[Idea, bool]:
        """`add_once` for an idea: `(idea, True)`, or `(the first one with its key, False)`."""
        return await add_once(self.session, idea, find)

    async def idea_by_key(self, author: str, key: str) -> Idea | None:
        """The idea `author` made with this Idempotency-Key, or None."""
        statement = select(Idea).where(Idea.author_id == author, Idea.idempotency_key == key)
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
        await self.delete_ideas([idea_id])
        return True

    async def delete_ideas(self, ids: Sequence[uuid.UUID]) -> None:
        """Delete these ideas with their history, supports, follows and comments."""
        for table, column in (
            (IdeaTransition, IdeaTransition.idea_id),
            (Support, Support.idea_id),
            (Follow, Follow.idea_id),
        ):
            await self.session.exec(delete(table).where(col(column).in_(ids)))
        replies = col(Comment.parent_id).is_not(None)  # a comment's parent must outlive it
        await self.session.exec(delete(Comment).where(col(Comment.idea_id).in_(ids), replies))
        await self.session.exec(delete(Comment).where(col(Comment.idea_id).in_(ids)))
        await self.session.exec(delete(Idea).where(col(Idea.id).in_(ids)))

    async def add_transition(self, transition: IdeaTransition) -> None:
        """Insert one move into an idea's history."""
        self.session.add(transition)
        await self.session.flush()

    async def transitions(self, idea_id: uuid.UUID) -> Sequence[IdeaTransition]:
        """The idea's history, oldest move first."""
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
        key = SORT_KEYS[sort][0]
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
        """Up to `cap` ideas `viewer` may see that are neither drafts nor withdrawn, most
        recently updated first (the pool of semantic duplicate search)."""
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
        else raise `IdeaNotOpen` (409; the request rolls back, the mark row with it)."""
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
        """True for a new support, False when the person supported it already. Raises
        `IdeaNotOpen` (409) when the idea is a draft or withdrawn by the time the counter moves
        (the rule: service/workflow.py)."""
        still_open = col(Idea.status).not_in([s.value for s in NOT_SUPPORTABLE])
        return await self._add_mark(Support, idea_id, person, col(Idea.support_count), still_open)

    async def remove_support(self, idea_id: uuid.UUID, person: str) -> bool:
        """True when the person's support was there and is gone (the counter follows)."""
        return await self._remove_mark(Support, idea_id, person, col(Idea.support_count))

    async def add_follow(self, idea_id: uuid.UUID, person: str) -> bool:
        """True for a new follow, False when the person followed the idea already."""
        return await self._add_mark(Follow, idea_id, person, col(Idea.follower_count))

    async def remove_follow(self, idea_id: uuid.UUID, person: str) -> bool:
        """True when the person followed the idea and no longer does."""
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

    # -- cached vectors of duplicate search --
    async def embeddings(self, idea_ids: list[uuid.UUID]) -> dict[uuid.UUID, IdeaEmbedding]:
        """The cached vectors of these ideas, by idea id (any model, any text hash)."""
        statement = select(IdeaEmbedding).where(col(IdeaEmbedding.idea_id).in_(idea_ids))
        return {row.idea_id: row for row in (await self.session.exec(statement)).all()}

    async def remember_embeddings(self, rows: list[IdeaEmbedding]) -> None:
        """Insert or replace these cached vectors."""
        for row in rows:
            await self.session.merge(row)
        await self.session.flush()
