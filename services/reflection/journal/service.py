"""The reflection journal: start, answer stage by stage, finish, share, delete. Domain rules
only; the engines are behind `ReflectionGuide`, asking a stage is asking.py, turning an action
into an idea is idea_drafts.py.

Slow work (retrieval, a language model) happens outside any transaction; each change is then
written in one short transaction that first locks the reflection (`JournalRepository.lock_own`:
404 once it is deleted) and is guarded by the stage it expects, so two answers racing for the
same stage cannot both land, a delete racing a share, an answer or a finish leaves no row
behind, and a session is never left half-updated. Each write answers with what it wrote, read
in its own transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.cursors import KeysetCursor
from kit.db import Database, utcnow
from kit.errors import Conflict, Unprocessable
from services.reflection import language as languages
from services.reflection.access import can_read_reflection
from services.reflection.guide.base import (
    Answered,
    ReflectionGuide,
    SummaryRequest,
    TokenSink,
)
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal import asking, records
from services.reflection.journal.models import (
    Reflection,
    ReflectionPage,
    ReflectionPublic,
    ReflectionStart,
    ReflectionStatus,
    ReflectionTurn,
)
from services.reflection.journal.presenting import presented
from services.reflection.journal.repository import JournalRepository, ReflectionNotFound, Scope
from services.reflection.journal.xapi_statements import reflection_finished
from services.reflection.settings import ReflectionSettings

# The list's cursor keeps the error body it always had (400 `bad_cursor` naming `cursor`).
CURSOR = KeysetCursor(message="the cursor is not one this API gave out", code="bad_cursor")


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
        repository = JournalRepository(session)
        reflection = await repository.get(reflection_id)
        if reflection is None:
            return None
        turns = (await repository.turns_of([reflection_id]))[reflection_id]
        return Loaded(reflection, turns, self.catalogue[reflection.model_key])

    async def visible(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        """The reflection as `principal` may see it (`present`, in a read-only transaction).
        Raises ReflectionNotFound (404 `reflection_not_found`) for anyone but its author and
        members of a team it is shared with."""
        async with self.database.reading() as session:
            return await self.present(session, principal, reflection_id)

    async def present(
        self, session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
    ) -> ReflectionPublic:
        """The reflection as `principal` may see it, read in `session`: a write presents what
        it wrote in its own transaction, so a delete right after its commit cannot turn its
        success into a 404. Raises ReflectionNotFound (404 `reflection_not_found`) for anyone
        the reflection is not visible to (access.can_read_reflection)."""
        await session.flush()
        session.expire_all()  # core UPDATEs of this transaction are not in the identity map
        repository = JournalRepository(session)
        reflection = await repository.get(reflection_id)
        teams = (await repository.shares_of([reflection_id])).get(reflection_id, [])
        if reflection is None or not can_read_reflection(reflection.author_id, teams, principal):
            raise ReflectionNotFound()
        return (await presented(repository, principal, [reflection], self.catalogue))[0]

    async def page(
        self,
        principal: Principal,
        scope: Scope,
        limit: int,
        cursor: str | None,
        ids: list[uuid.UUID] | None = None,
    ) -> ReflectionPage:
        """Up to `limit` reflections newest first, after `cursor`. `mine`: your own; `shared`:
        others' shared with one of your teams; with `ids`: those of them you may read, yours
        or shared (one call for a page of links). Raises InvalidCursor (400 `bad_cursor`) for a
        cursor this API did not hand out."""
        after = CURSOR.decode(cursor, (datetime, uuid.UUID)) if cursor is not None else None
        async with self.database.reading() as session:
            repository = JournalRepository(session)
            found = await repository.page(principal, scope, limit + 1, after, ids)
            items = await presented(repository, principal, found[:limit], self.catalogue)
        last = found[limit - 1] if len(found) > limit else None
        return ReflectionPage(
            items=items, next_cursor=CURSOR.encode((last.created_at, last.id)) if last else None
        )

    async def own(self, principal: Principal, reflection_id: uuid.UUID) -> Loaded:
        """The author's reflection as it stands, to check before slow work (read only: every
        write checks again under a lock, `JournalRepository.lock_own`). Raises
        ReflectionNotFound (404 `reflection_not_found`) for anyone but its author."""
        async with self.database.reading() as session:
            loaded = await self._load(session, reflection_id)
        if loaded is None or loaded.reflection.author_id != principal.subject:
            raise ReflectionNotFound()
        return loaded

    # ---- changing ----------------------------------------------------------------------

    def check_start(self, body: ReflectionStart) -> ReflectionModel:
        """The reflection model `body` names. Raises Unprocessable (422
        `unknown_reflection_model`, `details.known` listing the keys) for an unknown one."""
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
        """A new reflection of `principal` on `body.experience`, with the first stage asked
        (its language detected when not given, "nl" when undecided). Raises Unprocessable (422
        `unknown_reflection_model`)."""
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
            await JournalRepository(session).insert(reflection, turn)
            public = await self.present(session, principal, reflection.id)
            await session.commit()
        return public

    async def check_answer(
        self, principal: Principal, reflection_id: uuid.UUID, stage_key: str
    ) -> Loaded:
        """The author's reflection, if `stage_key` is the stage waiting for an answer. Raises
        ReflectionNotFound (404), Conflict (409 `reflection_finished`, `stages_complete`,
        `stage_out_of_order` with `details.expected`)."""
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
        """Store `answer` to the waiting stage of `loaded` (checked by `check_answer`) and ask
        the next stage, if any. Raises ReflectionNotFound (404, also when deleted meanwhile),
        Conflict (409 `stage_out_of_order` when another answer landed first)."""
        reflection, model = loaded.reflection, loaded.model
        index = reflection.stage_index
        answered = [
            *records.answered(loaded.turns, model),
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
            repository = JournalRepository(session)
            await repository.lock_own(principal, reflection.id)  # 404 once deleted
            if not await repository.advance(reflection.id, index, shown, now):
                raise Conflict("this stage was answered meanwhile", code="stage_out_of_order")
            await repository.record_answer(reflection.id, index, answer, now)
            if next_turn is not None:
                await repository.insert(next_turn)
            public = await self.present(session, principal, reflection.id)
            await session.commit()
        return public

    async def finish(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        """Summarise the author's fully answered reflection and mark it finished; tells
        analytics that it happened unless the author opted out (xapi_statements.py). Raises
        ReflectionNotFound (404), Conflict (409 `reflection_finished`, `stages_unanswered`
        with `details.remaining`)."""
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
        passages = [records.passage_of(record) for t in loaded.turns for record in t.passages]
        summary = await self.guide.summarise(
            SummaryRequest(
                model=model,
                language=reflection.language,
                experience=reflection.experience,
                answered=records.answered(loaded.turns, model),
                passages=passages,
            )
        )
        now = utcnow()
        async with self.database.sessions() as session:
            repository = JournalRepository(session)
            await repository.lock_own(principal, reflection.id)  # 404 once deleted
            if not await repository.finish(reflection.id, records.summary_record(summary), now):
                raise Conflict("this reflection is already finished", code="reflection_finished")
            preference = await repository.preference(principal.subject)
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
        Raises ReflectionNotFound (404, also when deleted meanwhile), Unprocessable (422
        `no_team`, `not_your_team` with `details.teams`)."""
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
        """Make it private again. Raises ReflectionNotFound (404)."""
        return await self._set_shares(principal, reflection_id, [])

    async def _set_shares(
        self, principal: Principal, reflection_id: uuid.UUID, teams: list[str]
    ) -> ReflectionPublic:
        async with self.database.sessions() as session:
            repository = JournalRepository(session)
            await repository.lock_own(principal, reflection_id)  # 404 once deleted
            await repository.replace_shares(reflection_id, teams)
            public = await self.present(session, principal, reflection_id)
            await session.commit()
        return public

    async def delete(self, principal: Principal, reflection_id: uuid.UUID) -> None:
        """Delete the author's reflection for good, with its stages and shares. Raises
        ReflectionNotFound (404), also for the second of two deletes."""
        async with self.database.sessions() as session:
            repository = JournalRepository(session)
            await repository.lock_own(principal, reflection_id)
            await repository.delete([reflection_id])
            await session.commit()
