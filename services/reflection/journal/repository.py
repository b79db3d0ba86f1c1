"""Every query of the journal. The repository flushes, never commits: the session it is given
owns the transaction (the request's, or a unit of work's)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, or_, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import upsert
from kit.errors import NotFound
from services.reflection.journal.models import (
    Reflection,
    ReflectionPreference,
    ReflectionShare,
    ReflectionStatus,
    ReflectionTurn,
)

Scope = Literal["mine", "shared"]


class ReflectionNotFound(NotFound):
    """404 `reflection_not_found`: no such reflection, or not one the caller may use."""

    code = "reflection_not_found"

    def __init__(self) -> None:
        super().__init__("no such reflection")


class JournalRepository:
    """The journal's queries over one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---- reading -----------------------------------------------------------------------

    async def get(self, reflection_id: uuid.UUID) -> Reflection | None:
        """The reflection, or None when there is none with this id."""
        return await self.session.get(Reflection, reflection_id)

    async def turns_of(
        self, reflection_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[ReflectionTurn]]:
        """The stages of each reflection, in stage order (an empty list for one without)."""
        rows = await self.session.exec(
            select(ReflectionTurn)
            .where(col(ReflectionTurn.reflection_id).in_(reflection_ids))
            .order_by(col(ReflectionTurn.stage_index))
        )
        turns: dict[uuid.UUID, list[ReflectionTurn]] = defaultdict(list)
        for turn in rows.all():
            turns[turn.reflection_id].append(turn)
        return turns

    async def shares_of(self, reflection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        """The teams each reflection is shared with (an empty list for a private one)."""
        rows = await self.session.exec(
            select(ReflectionShare).where(col(ReflectionShare.reflection_id).in_(reflection_ids))
        )
        teams: dict[uuid.UUID, list[str]] = defaultdict(list)
        for share in rows.all():
            teams[share.reflection_id].append(share.team)
        return teams

    async def page(
        self,
        principal: Principal,
        scope: Scope,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        ids: Sequence[uuid.UUID] | None = None,
    ) -> list[Reflection]:
        """Up to `limit` reflections newest first (ties by id), after the keyset `after`.
        `mine`: the principal's own; `shared`: others' shared with one of their teams; with
        `ids`: those of them the principal may read, own or shared."""
        shared = select(ReflectionShare.reflection_id).where(
            col(ReflectionShare.team).in_(sorted(principal.teams))
        )
        mine = col(Reflection.author_id) == principal.subject
        query = select(Reflection)
        if ids:
            query = query.where(
                col(Reflection.id).in_(ids), or_(mine, col(Reflection.id).in_(shared))
            )
        elif scope == "mine":
            query = query.where(mine)
        else:
            query = query.where(col(Reflection.id).in_(shared), ~mine)
        if after is not None:
            at, last = after
            query = query.where(
                or_(
                    col(Reflection.created_at) < at,
                    and_(col(Reflection.created_at) == at, col(Reflection.id) < last),
                )
            )
        query = query.order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
        return list((await self.session.exec(query.limit(limit))).all())

    async def of_author(self, subject: str) -> list[Reflection]:
        """Every reflection `subject` wrote, in no particular order."""
        found = await self.session.exec(select(Reflection).where(Reflection.author_id == subject))
        return list(found.all())

    async def preference(self, subject: str) -> ReflectionPreference | None:
        """`subject`'s privacy choice, or None when they never made one."""
        return await self.session.get(ReflectionPreference, subject)

    # ---- writing -----------------------------------------------------------------------

    async def lock_own(self, principal: Principal, reflection_id: uuid.UUID) -> Reflection:
        """The reflection, fresh from the database and locked until the transaction ends, if it
        exists and `principal` wrote it. Raises ReflectionNotFound (404) otherwise.

        Every write to one reflection (and to the rows that reference it) begins here, in the
        transaction that writes: a row lock on PostgreSQL (`SELECT … FOR UPDATE`), SQLite's one
        write lock (taken at `BEGIN IMMEDIATE`, kit/db.py) on SQLite. So a delete and a share,
        an answer, a finish or an idea link are serialised: the one that comes second finds the
        reflection gone (404) or changed, and never writes a row whose reflection was deleted.
        """
        statement = (
            select(Reflection)
            .where(Reflection.id == reflection_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found = (await self.session.exec(statement)).first()
        if found is None or found.author_id != principal.subject:
            raise ReflectionNotFound()
        return found

    async def insert(self, *rows: Any) -> None:
        """Insert new rows (a reflection, a stage) in the order given, so a row is written
        before the rows that reference it."""
        for row in rows:
            self.session.add(row)
            await self.session.flush()

    async def advance(
        self, reflection_id: uuid.UUID, stage_index: int, passages_shown: int, now: datetime
    ) -> bool:
        """Move an open reflection from stage `stage_index` to the next; False when it is no
        longer open at that stage (another answer landed first)."""
        moved = await self.session.exec(
            update(Reflection)
            .where(
                col(Reflection.id) == reflection_id,
                col(Reflection.stage_index) == stage_index,
                col(Reflection.status) == ReflectionStatus.open.value,
            )
            .values(stage_index=stage_index + 1, passages_shown=passages_shown, updated_at=now)
        )
        return bool(moved.rowcount)

    async def record_answer(
        self, reflection_id: uuid.UUID, stage_index: int, answer: str, now: datetime
    ) -> None:
        """Store the answer of one stage."""
        await self.session.exec(
            update(ReflectionTurn)
            .where(
                col(ReflectionTurn.reflection_id) == reflection_id,
                col(ReflectionTurn.stage_index) == stage_index,
            )
            .values(answer=answer, answered_at=now)
        )

    async def finish(
        self, reflection_id: uuid.UUID, summary: dict[str, Any], now: datetime
    ) -> bool:
        """Mark an open reflection finished with its summary; False when it was finished
        already (another finish landed first)."""
        done = await self.session.exec(
            update(Reflection)
            .where(
                col(Reflection.id) == reflection_id,
                col(Reflection.status) == ReflectionStatus.open.value,
            )
            .values(
                status=ReflectionStatus.finished.value,
                summary=summary,
                finished_at=now,
                updated_at=now,
            )
        )
        return bool(done.rowcount)

    async def link_idea(
        self, reflection: Reflection, action: int, idea_id: uuid.UUID, now: datetime
    ) -> None:
        """Record that summary action `action` of `reflection` (locked by `lock_own`) became
        idea `idea_id`, unless that action is linked already (the first link stays)."""
        if any(link["action"] == action for link in reflection.ideas):
            return
        reflection.ideas = [*reflection.ideas, {"action": action, "idea_id": str(idea_id)}]
        reflection.updated_at = now
        self.session.add(reflection)
        await self.session.flush()

    async def replace_shares(self, reflection_id: uuid.UUID, teams: Sequence[str]) -> None:
        """Share the reflection with exactly `teams` (none: private)."""
        await self.session.exec(
            delete(ReflectionShare).where(col(ReflectionShare.reflection_id) == reflection_id)
        )
        self.session.add_all(ReflectionShare(reflection_id=reflection_id, team=t) for t in teams)

    async def set_preference(self, subject: str, share_with_analytics: bool) -> None:
        """Store `subject`'s privacy choice. One statement, so two first choices at once cannot
        both insert (no 500 on the second)."""
        values = {"subject": subject, "share_with_analytics": share_with_analytics}
        await self.session.exec(upsert(self.session, ReflectionPreference, ["subject"], values))

    async def delete(self, reflection_ids: Sequence[uuid.UUID]) -> int:
        """Delete the reflections with their stages and shares; returns how many were there.
        Their rows are locked first (in id order, so two erasures cannot deadlock): a share or
        an answer that got there first commits before the delete sees its rows."""
        locked = select(Reflection.id).where(col(Reflection.id).in_(reflection_ids))
        found = (
            await self.session.exec(locked.order_by(col(Reflection.id)).with_for_update())
        ).all()
        for table, column in (
            (ReflectionTurn, ReflectionTurn.reflection_id),
            (ReflectionShare, ReflectionShare.reflection_id),
            (Reflection, Reflection.id),
        ):
            await self.session.exec(delete(table).where(col(column).in_(reflection_ids)))
        return len(found)

    async def delete_preference(self, subject: str) -> None:
        """Forget `subject`'s privacy choice (back to the default)."""
        await self.session.exec(
            delete(ReflectionPreference).where(col(ReflectionPreference.subject) == subject)
        )
