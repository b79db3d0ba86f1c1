"""The reflection journal's rules: start, answer stage by stage, finish, share, delete, and the
author's privacy choice. The engines are behind `ReflectionGuide`; asking a stage is asking.py,
turning an action into an idea is idea_drafts.py, every query is repository.py.

One transaction model (docs/reflection.md, "Transactions"): the request's sessions own the
transactions. `reads` (ReadSessionDep) is read-only — on SQLite it never takes the write lock —
and serves every check and all retrieval before the slow work (retrieval, a language model).
`session` (SessionDep) is touched only after the slow work: its first statement locks the
reflection (`JournalRepository.lock_own`: 404 once it is deleted; on SQLite, `BEGIN IMMEDIATE`
takes the write lock only then), the write is guarded by the stage it expects, so two answers
racing for one stage resolve to one 200 and one 409, and the request commits when the route
returns. A write answers with what it wrote, read in its own transaction. A streamed request
outlives its route, so streaming.py runs the same code in a read session and a unit of work.
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
from services.reflection.journal.idea_drafts import IdeasClient
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


def check_answerable(reflection: Reflection, model: ReflectionModel, stage_key: str) -> None:
    """Nothing, when `stage_key` is the stage of `reflection` waiting for an answer. Raises
    Conflict: 409 `reflection_finished`, `stages_complete` (finish it instead) or
    `stage_out_of_order` with `details.expected`. Stages are answered in the model's order
    (docs/guided-reflection.md)."""
    if reflection.status == ReflectionStatus.finished:
        raise Conflict("this reflection is finished", code="reflection_finished")
    if reflection.stage_index >= len(model.stages):
        raise Conflict("every stage is answered: finish the reflection", code="stages_complete")
    expected = model.stages[reflection.stage_index].key
    if stage_key != expected:
        raise Conflict(
            f"the stage to answer is {expected!r}",
            code="stage_out_of_order",
            details={"expected": expected},
        )


def check_finishable(reflection: Reflection, model: ReflectionModel) -> None:
    """Nothing, when every stage of `reflection` is answered and it is still open. Raises
    Conflict: 409 `reflection_finished`, or `stages_unanswered` with `details.remaining` (the
    stage keys still to answer)."""
    if reflection.status == ReflectionStatus.finished:
        raise Conflict("this reflection is already finished", code="reflection_finished")
    if reflection.stage_index < len(model.stages):
        remaining = [s.key for s in model.stages[reflection.stage_index :]]
        raise Conflict(
            "answer every stage before finishing",
            code="stages_unanswered",
            details={"remaining": remaining},
        )


def teams_to_share_with(teams: list[str] | None, principal: Principal) -> list[str]:
    """The teams a share goes to, sorted: `teams`, or all of the author's when None. Raises
    Unprocessable: 422 `no_team` (none to share with), `not_your_team` with `details.teams`
    (a reflection is shared only within the author's own teams, docs/privacy.md)."""
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
    return chosen


class Journal:
    """The journal's rules, over the retrieval engines, the guide and the ideas service's client
    (made once per process); the sessions come with each call."""

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
        self.pseudonym_key = pseudonym_key
        # One client per process, so its breaker remembers the ideas service between calls.
        self.ideas = IdeasClient(http, settings.ideas_url)

    # ---- reading -----------------------------------------------------------------------

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
        session: AsyncSession,
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
        repository = JournalRepository(session)
        found = await repository.page(principal, scope, limit + 1, after, ids)
        items = await presented(repository, principal, found[:limit], self.catalogue)
        last = found[limit - 1] if len(found) > limit else None
        return ReflectionPage(
            items=items, next_cursor=CURSOR.encode((last.created_at, last.id)) if last else None
        )

    async def own(
        self, reads: AsyncSession, principal: Principal, reflection_id: uuid.UUID
    ) -> Loaded:
        """The author's reflection as it stands, to check before slow work (every write checks
        again under a lock, `JournalRepository.lock_own`). Raises ReflectionNotFound (404
        `reflection_not_found`) for anyone but its author."""
        repository = JournalRepository(reads)
        reflection = await repository.get(reflection_id)
        if reflection is None or reflection.author_id != principal.subject:
            raise ReflectionNotFound()
        turns = (await repository.turns_of([reflection_id]))[reflection_id]
        if not turns:
            # Every reflection is stored with its first stage, so it was deleted between the
            # two reads (PostgreSQL reads each statement's latest commit): it is gone.
            raise ReflectionNotFound()
        return Loaded(reflection, turns, self.catalogue[reflection.model_key])

    async def preferences(self, reads: AsyncSession, principal: Principal) -> bool:
        """Whether analytics may count `principal`'s reflections: true until they choose."""
        stored = await JournalRepository(reads).preference(principal.subject)
        return stored.share_with_analytics if stored else True

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
        self,
        reads: AsyncSession,
        session: AsyncSession,
        principal: Principal,
        body: ReflectionStart,
        sink: TokenSink | None = None,
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
            self, reads, principal, reflection, model, model.stages[0], [], sink
        )
        reflection.passages_shown = len(passages)
        turn = asking.turn(self.catalogue, reflection, 0, question, passages)
        await JournalRepository(session).insert(reflection, turn)
        return await self.present(session, principal, reflection.id)

    async def check_answer(
        self, reads: AsyncSession, principal: Principal, reflection_id: uuid.UUID, stage_key: str
    ) -> Loaded:
        """The author's reflection, if `stage_key` is the stage waiting for an answer. Raises
        ReflectionNotFound (404), Conflict (409, `check_answerable`)."""
        loaded = await self.own(reads, principal, reflection_id)
        check_answerable(loaded.reflection, loaded.model, stage_key)
        return loaded

    async def answer(
        self,
        reads: AsyncSession,
        session: AsyncSession,
        principal: Principal,
        loaded: Loaded,
        answer: str,
        sink: TokenSink | None = None,
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
            stage = model.stages[index + 1]
            question, passages = await asking.ask(
                self, reads, principal, reflection, model, stage, answered, sink, loaded.turns
            )
            next_turn = asking.turn(self.catalogue, reflection, index + 1, question, passages)
            shown += len(passages)
        now = utcnow()
        repository = JournalRepository(session)
        await repository.lock_own(principal, reflection.id)  # 404 once deleted
        if not await repository.advance(reflection.id, index, shown, now):
            raise Conflict("this stage was answered meanwhile", code="stage_out_of_order")
        await repository.record_answer(reflection.id, index, answer, now)
        if next_turn is not None:
            await repository.insert(next_turn)
        return await self.present(session, principal, reflection.id)

    async def finish(
        self,
        reads: AsyncSession,
        session: AsyncSession,
        principal: Principal,
        reflection_id: uuid.UUID,
    ) -> ReflectionPublic:
        """Summarise the author's fully answered reflection and mark it finished; tells
        analytics that it happened unless the author opted out (xapi_statements.py). Raises
        ReflectionNotFound (404), Conflict (409, `check_finishable`)."""
        loaded = await self.own(reads, principal, reflection_id)
        reflection, model = loaded.reflection, loaded.model
        check_finishable(reflection, model)
        summary = await self.guide.summarise(
            SummaryRequest(
                model=model,
                language=reflection.language,
                experience=reflection.experience,
                answered=records.answered(loaded.turns, model),
                passages=[records.passage_of(r) for t in loaded.turns for r in t.passages],
            )
        )
        now = utcnow()
        repository = JournalRepository(session)
        await repository.lock_own(principal, reflection.id)  # 404 once deleted
        if not await repository.finish(reflection.id, records.summary_record(summary), now):
            raise Conflict("this reflection is already finished", code="reflection_finished")
        preference = await repository.preference(principal.subject)
        if preference is None or preference.share_with_analytics:
            reflection_finished(
                session, self.settings.platform.public_url, reflection, principal, now
            )
        return await self.present(session, principal, reflection.id)

    async def share(
        self,
        session: AsyncSession,
        principal: Principal,
        reflection_id: uuid.UUID,
        teams: list[str] | None,
    ) -> ReflectionPublic:
        """Share with `teams` (all of the author's when None), replacing an earlier choice.
        Raises Unprocessable (422, `teams_to_share_with`), ReflectionNotFound (404, also when
        deleted meanwhile)."""
        chosen = teams_to_share_with(teams, principal)
        return await self._set_shares(session, principal, reflection_id, chosen)

    async def unshare(
        self, session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
    ) -> ReflectionPublic:
        """Make it private again. Raises ReflectionNotFound (404)."""
        return await self._set_shares(session, principal, reflection_id, [])

    async def _set_shares(
        self,
        session: AsyncSession,
        principal: Principal,
        reflection_id: uuid.UUID,
        teams: list[str],
    ) -> ReflectionPublic:
        repository = JournalRepository(session)
        await repository.lock_own(principal, reflection_id)  # 404 once deleted
        await repository.replace_shares(reflection_id, teams)
        return await self.present(session, principal, reflection_id)

    async def delete(
        self, session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
    ) -> None:
        """Delete the author's reflection for good, with its stages and shares. Raises
        ReflectionNotFound (404), also for the second of two deletes."""
        repository = JournalRepository(session)
        await repository.lock_own(principal, reflection_id)
        await repository.delete([reflection_id])

    async def set_preferences(
        self, session: AsyncSession, principal: Principal, share_with_analytics: bool
    ) -> None:
        """Store whether analytics may count `principal`'s reflections from now on."""
        await JournalRepository(session).set_preference(principal.subject, share_with_analytics)
