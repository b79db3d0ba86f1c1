"""The reflection journal: start, answer stage by stage, finish, share, delete. Domain rules
only; the engines are behind `ReflectionGuide`, asking a stage is asking.py, turning an action
into an idea is idea_drafts.py.

Slow work (retrieval, a language model) happens outside any transaction; each change is then
written in one short transaction that first locks the reflection (`views.lock_own`: 404 once
it is deleted) and is guarded by the stage it expects, so two answers racing for the same stage
cannot both land, a delete racing a share, an answer or a finish leaves no row behind, and a
session is never left half-updated. Each write answers with what it wrote, read in its own
transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, or_, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import Database, utcnow
from kit.errors import Conflict, NotFound, Unprocessable
from services.reflection import asking, views
from services.reflection import language as languages
from services.reflection.access import readable_documents
from services.reflection.events import reflection_finished
from services.reflection.guide.base import (
    Answered,
    ReflectionGuide,
    SummaryRequest,
    TokenSink,
)
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal_models import ReflectionPage, ReflectionPublic, ReflectionStart
from services.reflection.models import (
    Reflection,
    ReflectionPreference,
    ReflectionShare,
    ReflectionStatus,
    ReflectionTurn,
)
from services.reflection.settings import ReflectionSettings


@dataclass
class Loaded:
    """A reflection with its stages (in order) and its reflection model."""

    reflection: Reflection
    turns: list[ReflectionTurn]
    model: ReflectionModel


class Journal:
    """The journal's rules, over the database, the retrieval engines and the guide."""

    def __init__(
        self,
        *,
        database: Database,
        index: Any,
        embedder: Any,
        guide: ReflectionGuide,
        catalogue: dict[str, ReflectionModel],
        settings: ReflectionSettings,
        http: httpx.AsyncClient,
        pseudonym_key: bytes,
    ) -> None:
        self.database, self.index, self.embedder = database, index, embedder
        self.guide, self.catalogue, self.settings = guide, catalogue, settings
        self.http, self.pseudonym_key = http, pseudonym_key

    # ---- reading -----------------------------------------------------------------------

    async def _load(self, session: AsyncSession, reflection_id: uuid.UUID) -> Loaded | None:
        reflection = await session.get(Reflection, reflection_id)
        if reflection is None:
            return None
        turns = (await views.turns_of(session, [reflection_id]))[reflection_id]
        return Loaded(reflection, turns, self.catalogue[reflection.model_key])

    async def visible(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        """The author, or a member of a team it is shared with; anyone else learns nothing."""
        async with self.database.reading() as session:
            return await self.present(session, principal, reflection_id)

    async def present(
        self, session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
    ) -> ReflectionPublic:
        """The reflection as `principal` may see it, read in `session`: a write presents what
        it wrote in its own transaction, so a delete right after its commit cannot turn its
        success into a 404. Raises 404 `reflection_not_found` for anyone else."""
        await session.flush()
        session.expire_all()  # core UPDATEs of this transaction are not in the identity map
        loaded = await self._load(session, reflection_id)
        shares = await views.shares_of(session, [reflection_id])
        teams = shares.get(reflection_id, [])
        if loaded is None or not (
            loaded.reflection.author_id == principal.subject or set(teams) & principal.teams
        ):
            raise NotFound("no such reflection", code="reflection_not_found")
        # The reader's visibility of each cited document, now (access.py).
        readable = await readable_documents(session, principal, views.cited_documents(loaded.turns))
        return views.public(
            loaded.reflection, loaded.turns, loaded.model, teams, principal, readable
        )

    async def page(
        self,
        principal: Principal,
        scope: str,
        limit: int,
        cursor: str | None,
        ids: list[uuid.UUID] | None = None,
    ) -> ReflectionPage:
        """Newest first. `mine`: your own; `shared`: others' shared with one of your teams;
        with `ids`: those of them you may read, yours or shared (one call for a page of links)."""
        query = select(Reflection)
        shared = select(ReflectionShare.reflection_id).where(
            col(ReflectionShare.team).in_(sorted(principal.teams))
        )
        if ids:
            query = query.where(
                col(Reflection.id).in_(ids),
                or_(col(Reflection.author_id) == principal.subject, col(Reflection.id).in_(shared)),
            )
        elif scope == "mine":
            query = query.where(Reflection.author_id == principal.subject)
        else:
            query = query.where(
                col(Reflection.id).in_(shared), Reflection.author_id != principal.subject
            )
        if cursor is not None:
            at, last = views.read_cursor(cursor)
            query = query.where(
                or_(
                    col(Reflection.created_at) < at,
                    and_(col(Reflection.created_at) == at, col(Reflection.id) < last),
                )
            )
        query = query.order_by(col(Reflection.created_at).desc(), col(Reflection.id).desc())
        async with self.database.reading() as session:
            found = list((await session.exec(query.limit(limit + 1))).all())
            ids = [r.id for r in found[:limit]]
            turns, shares = await views.turns_of(session, ids), await views.shares_of(session, ids)
            cited = views.cited_documents([t for i in ids for t in turns[i]])
            readable = await readable_documents(session, principal, cited)
        items = [
            views.public(
                r,
                turns[r.id],
                self.catalogue[r.model_key],
                shares.get(r.id, []),
                principal,
                readable,
            )
            for r in found[:limit]
        ]
        more = len(found) > limit
        return ReflectionPage(
            items=items, next_cursor=views.make_cursor(found[limit - 1]) if more else None
        )

    async def own(self, principal: Principal, reflection_id: uuid.UUID) -> Loaded:
        """The author's reflection as it stands, to check before slow work (read only: every
        write checks again under a lock, `views.lock_own`). Raises 404 `reflection_not_found`."""
        async with self.database.reading() as session:
            loaded = await self._load(session, reflection_id)
        if loaded is None or loaded.reflection.author_id != principal.subject:
            raise NotFound("no such reflection", code="reflection_not_found")
        return loaded

    # ---- changing ----------------------------------------------------------------------

    def check_start(self, body: ReflectionStart) -> ReflectionModel:
        model = self.catalogue.get(body.model)
        if model is None:
            raise Unprocessable(
                f"no reflection model {body.model!r}",
                code="unknown_reflection_model",
                details={"known": sorted(self.catalogue)},
            )
        return model

    async def start(
        self, principal: Principal, body: ReflectionStart, sink: TokenSink | None = None
    ) -> ReflectionPublic:
        model = self.check_start(body)
        reflection = Reflection(
            author_id=principal.subject,
            model_key=model.key,
            language=body.language or languages.detect(body.experience) or "nl",
            process=body.process or None,
            experience=body.experience,
        )
        question, passages = await asking.ask(
            self, principal, reflection, model, model.stages[0], [], sink
        )
        reflection.passages_shown = len(passages)
        turn = asking.turn(self.catalogue, reflection, 0, question, passages)
        async with self.database.sessions() as session:
            session.add(reflection)
            await session.flush()
            session.add(turn)
            public = await self.present(session, principal, reflection.id)
            await session.commit()
        return public

    async def check_answer(
        self, principal: Principal, reflection_id: uuid.UUID, stage_key: str
    ) -> Loaded:
        loaded = await self.own(principal, reflection_id)
        reflection, stages = loaded.reflection, loaded.model.stages
        if reflection.status == ReflectionStatus.finished:
            raise Conflict("this reflection is finished", code="reflection_finished")
        if reflection.stage_index >= len(stages):
            raise Conflict("every stage is answered: finish the reflection", code="stages_complete")
        expected = stages[reflection.stage_index].key
        if stage_key != expected:
            raise Conflict(
                f"the stage to answer is {expected!r}",
                code="stage_out_of_order",
                details={"expected": expected},
            )
        return loaded

    async def answer(
        self, principal: Principal, loaded: Loaded, answer: str, sink: TokenSink | None = None
    ) -> ReflectionPublic:
        reflection, model = loaded.reflection, loaded.model
        index = reflection.stage_index
        answered = [
            *views.answered(loaded.turns, model),
            Answered(f"a{index + 1}", model.stages[index], loaded.turns[index].question, answer),
        ]
        next_turn = None
        shown = reflection.passages_shown
        if index + 1 < len(model.stages):
            question, passages = await asking.ask(
                self,
                principal,
                reflection,
                model,
                model.stages[index + 1],
                answered,
                sink,
                loaded.turns,
            )
            next_turn = asking.turn(self.catalogue, reflection, index + 1, question, passages)
            shown += len(passages)
        now = utcnow()
        async with self.database.sessions() as session:
            await views.lock_own(session, principal, reflection.id)  # 404 once deleted
            moved = await session.exec(
                update(Reflection)
                .where(
                    col(Reflection.id) == reflection.id,
                    col(Reflection.stage_index) == index,
                    col(Reflection.status) == ReflectionStatus.open.value,
                )
                .values(stage_index=index + 1, passages_shown=shown, updated_at=now)
            )
            if not moved.rowcount:
                raise Conflict("this stage was answered meanwhile", code="stage_out_of_order")
            await session.exec(
                update(ReflectionTurn)
                .where(
                    col(ReflectionTurn.reflection_id) == reflection.id,
                    col(ReflectionTurn.stage_index) == index,
                )
                .values(answer=answer, answered_at=now)
            )
            if next_turn is not None:
                session.add(next_turn)
            public = await self.present(session, principal, reflection.id)
            await session.commit()
        return public

    async def finish(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        loaded = await self.own(principal, reflection_id)
        reflection, model = loaded.reflection, loaded.model
        if reflection.status == ReflectionStatus.finished:
            raise Conflict("this reflection is already finished", code="reflection_finished")
        if reflection.stage_index < len(model.stages):
            remaining = [s.key for s in model.stages[reflection.stage_index :]]
            raise Conflict(
                "answer every stage before finishing",
                code="stages_unanswered",
                details={"remaining": remaining},
            )
        passages = [views.passage_of(record) for t in loaded.turns for record in t.passages]
        summary = await self.guide.summarise(
            SummaryRequest(
                model=model,
                language=reflection.language,
                experience=reflection.experience,
                answered=views.answered(loaded.turns, model),
                passages=passages,
            )
        )
        now = utcnow()
        async with self.database.sessions() as session:
            await views.lock_own(session, principal, reflection.id)  # 404 once deleted
            done = await session.exec(
                update(Reflection)
                .where(
                    col(Reflection.id) == reflection.id,
                    col(Reflection.status) == ReflectionStatus.open.value,
                )
                .values(
                    status=ReflectionStatus.finished.value,
                    summary=views.summary_record(summary),
                    finished_at=now,
                    updated_at=now,
                )
            )
            if not done.rowcount:
                raise Conflict("this reflection is already finished", code="reflection_finished")
            preference = await session.get(ReflectionPreference, principal.subject)
            if preference is None or preference.share_with_analytics:
                reflection_finished(
                    session, self.settings.platform.public_url, reflection, principal, now
                )
            public = await self.present(session, principal, reflection.id)
            await session.commit()
        return public

    async def share(
        self, principal: Principal, reflection_id: uuid.UUID, teams: list[str] | None
    ) -> ReflectionPublic:
        """Share with `teams` (all of the author's when None), replacing an earlier choice.
        Raises 404 `reflection_not_found` (also when deleted meanwhile), 422 `no_team`,
        `not_your_team`."""
        chosen = sorted(set(teams) if teams is not None else principal.teams)
        if not chosen:
            raise Unprocessable("you belong to no team to share with", code="no_team")
        foreign = [team for team in chosen if team not in principal.teams]
        if foreign:
            raise Unprocessable(
                "you can share only with your own teams",
                code="not_your_team",
                details={"teams": foreign},
            )
        return await self._set_shares(principal, reflection_id, chosen)

    async def unshare(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        """Make it private again. Raises 404 `reflection_not_found`."""
        return await self._set_shares(principal, reflection_id, [])

    async def _set_shares(
        self, principal: Principal, reflection_id: uuid.UUID, teams: list[str]
    ) -> ReflectionPublic:
        async with self.database.sessions() as session:
            await views.lock_own(session, principal, reflection_id)  # 404 once deleted
            await session.exec(
                delete(ReflectionShare).where(col(ReflectionShare.reflection_id) == reflection_id)
            )
            for team in teams:
                session.add(ReflectionShare(reflection_id=reflection_id, team=team))
            public = await self.present(session, principal, reflection_id)
            await session.commit()
        return public

    async def delete(self, principal: Principal, reflection_id: uuid.UUID) -> None:
        """Delete the author's reflection for good, with its stages and shares. Raises 404
        `reflection_not_found`, also for the second of two deletes."""
        async with self.database.sessions() as session:
            await views.lock_own(session, principal, reflection_id)
            await views.delete_rows(session, [reflection_id])
            await session.commit()
