"""The reflection journal: start, answer stage by stage, finish, share, and turn an action into
an idea. Domain rules only; the engines are behind `ReflectionGuide`.

Slow work (retrieval, a language model) happens outside any transaction; each change is then
written in one short transaction guarded by the stage it expects, so two answers racing for
the same stage cannot both land and a session is never left half-updated.
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
from kit.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable
from services.reflection import language as languages
from services.reflection import views
from services.reflection.access import readable_documents
from services.reflection.events import reflection_finished
from services.reflection.gaps import record_gap
from services.reflection.guide.base import (
    Answered,
    GuideQuestion,
    Passage,
    ReflectionGuide,
    StageRequest,
    SummaryRequest,
    TokenSink,
)
from services.reflection.guide.catalogue import ReflectionModel, Stage
from services.reflection.models import (
    IdeaDrafted,
    IdeaFromAction,
    Reflection,
    ReflectionPage,
    ReflectionPreference,
    ReflectionPublic,
    ReflectionShare,
    ReflectionStart,
    ReflectionStatus,
    ReflectionTurn,
    SearchFilters,
    SearchRequest,
)
from services.reflection.search import retrieve
from services.reflection.settings import ReflectionSettings

PASSAGES_PER_STAGE = 3


@dataclass
class Loaded:
    reflection: Reflection
    turns: list[ReflectionTurn]
    model: ReflectionModel


class Journal:
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
            loaded = await self._load(session, reflection_id)
            shares = await views.shares_of(session, [reflection_id])
            teams = shares.get(reflection_id, [])
            if loaded is None or not (
                loaded.reflection.author_id == principal.subject or set(teams) & principal.teams
            ):
                raise NotFound("no such reflection", code="reflection_not_found")
            # The reader's visibility of each cited document, now (access.py).
            readable = await readable_documents(
                session, principal, views.cited_documents(loaded.turns)
            )
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

    async def _own(self, principal: Principal, reflection_id: uuid.UUID) -> Loaded:
        async with self.database.reading() as session:
            loaded = await self._load(session, reflection_id)
        if loaded is None or loaded.reflection.author_id != principal.subject:
            raise NotFound("no such reflection", code="reflection_not_found")
        return loaded

    # ---- asking ------------------------------------------------------------------------

    async def _passages(
        self, principal: Principal, reflection: Reflection, query: str, first: int
    ) -> list[Passage]:
        """What the worker may read that bears on this stage; none (and a gap) if nothing does."""
        threshold = self.settings.gap_threshold
        processes = [reflection.process] if reflection.process else []
        async with self.database.reading() as session:
            request = SearchRequest(
                query=query[:2000], filters=SearchFilters(process=processes), k=PASSAGES_PER_STAGE
            )
            hits, relevance = await retrieve(session, self.index, self.embedder, principal, request)
            if processes and relevance < threshold:  # the named process may lack the answer
                request = SearchRequest(query=query[:2000], k=PASSAGES_PER_STAGE)
                hits, relevance = await retrieve(
                    session, self.index, self.embedder, principal, request
                )
        if relevance < threshold:
            await record_gap(
                self.database,
                self.pseudonym_key,
                process=reflection.process,
                question=query,
                source="reflection",
                who=principal.subject,
            )
            return []
        return [
            Passage(
                cite=f"c{first + i}",
                chunk_id=hit.citation_id,
                document_id=str(hit.document_id),
                title=hit.document_title,
                section=hit.section,
                text=hit.text,
            )
            for i, hit in enumerate(hits)
        ]

    async def _ask(
        self,
        principal: Principal,
        reflection: Reflection,
        model: ReflectionModel,
        stage: Stage,
        answered: list[Answered],
        sink: TokenSink | None,
        earlier: list[ReflectionTurn] | None = None,
    ) -> tuple[GuideQuestion, list[Passage]]:
        passages: list[Passage] = []
        if stage.grounded is not None:
            query = " ".join([reflection.experience, *(a.answer for a in answered[-1:])])
            passages = await self._passages(
                principal, reflection, query, reflection.passages_shown + 1
            )
        if sink is not None and passages:
            await sink.passages(passages)
        request = StageRequest(
            model=model,
            stage=stage,
            language=reflection.language,
            experience=reflection.experience,
            answered=answered,
            passages=passages,
            quoted_before=frozenset(
                p["chunk_id"]
                for turn in earlier or []
                for p in turn.passages
                if f"[{p['id']}]" in turn.question
            ),
        )
        return await self.guide.ask(request, sink), passages

    def _turn(
        self, reflection: Reflection, index: int, question: GuideQuestion, passages: list[Passage]
    ) -> ReflectionTurn:
        return ReflectionTurn(
            reflection_id=reflection.id,
            stage_index=index,
            stage_key=self.catalogue[reflection.model_key].stages[index].key,
            question=question.text,
            passages=[views.passage_record(p) for p in passages],
            engine=question.engine,
            notice=question.notice,
            stripped_citations=question.stripped,
        )

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
        question, passages = await self._ask(
            principal, reflection, model, model.stages[0], [], sink
        )
        reflection.passages_shown = len(passages)
        turn = self._turn(reflection, 0, question, passages)
        async with self.database.sessions() as session:
            session.add(reflection)
            await session.flush()
            session.add(turn)
            await session.commit()
        return await self.visible(principal, reflection.id)

    async def check_answer(
        self, principal: Principal, reflection_id: uuid.UUID, stage_key: str
    ) -> Loaded:
        loaded = await self._own(principal, reflection_id)
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
            question, passages = await self._ask(
                principal, reflection, model, model.stages[index + 1], answered, sink, loaded.turns
            )
            next_turn = self._turn(reflection, index + 1, question, passages)
            shown += len(passages)
        now = utcnow()
        async with self.database.sessions() as session:
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
            await session.commit()
        return await self.visible(principal, reflection.id)

    async def finish(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        loaded = await self._own(principal, reflection_id)
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
            await session.commit()
        return await self.visible(principal, reflection.id)

    async def share(
        self, principal: Principal, reflection_id: uuid.UUID, teams: list[str] | None
    ) -> ReflectionPublic:
        await self._own(principal, reflection_id)
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
        async with self.database.sessions() as session:
            await session.exec(
                delete(ReflectionShare).where(col(ReflectionShare.reflection_id) == reflection_id)
            )
            for team in chosen:
                session.add(ReflectionShare(reflection_id=reflection_id, team=team))
            await session.commit()
        return await self.visible(principal, reflection_id)

    async def unshare(self, principal: Principal, reflection_id: uuid.UUID) -> ReflectionPublic:
        await self._own(principal, reflection_id)
        async with self.database.sessions() as session:
            await session.exec(
                delete(ReflectionShare).where(col(ReflectionShare.reflection_id) == reflection_id)
            )
            await session.commit()
        return await self.visible(principal, reflection_id)

    async def delete(self, principal: Principal, reflection_id: uuid.UUID) -> None:
        await self._own(principal, reflection_id)
        async with self.database.sessions() as session:
            await views.delete_rows(session, [reflection_id])
            await session.commit()

    async def draft_idea(
        self, principal: Principal, reflection_id: uuid.UUID, body: IdeaFromAction
    ) -> IdeaDrafted:
        loaded = await self._own(principal, reflection_id)
        reflection = loaded.reflection
        if reflection.status != ReflectionStatus.finished or reflection.summary is None:
            raise Conflict("finish the reflection first", code="reflection_not_finished")
        actions = reflection.summary["actions"]
        if body.action >= len(actions):
            raise Unprocessable(
                "no such action in the summary",
                code="unknown_action",
                details={"actions": len(actions)},
            )
        for link in reflection.ideas:
            if link["action"] == body.action:
                public = await self.visible(principal, reflection_id)
                return IdeaDrafted(
                    idea_id=uuid.UUID(link["idea_id"]), created=False, reflection=public
                )
        # The ideas service commits before the link below does: a failure in between, then a
        # retry, must not make a second idea, so the create carries a key of this action.
        idea_id = await self._post_idea(principal, loaded, body, actions[body.action]["text"])
        async with self.database.sessions() as session:
            stored = await session.get(Reflection, reflection_id, with_for_update=True)
            if stored is None:
                raise NotFound("no such reflection", code="reflection_not_found")
            if not any(link["action"] == body.action for link in stored.ideas):
                stored.ideas = [*stored.ideas, {"action": body.action, "idea_id": str(idea_id)}]
                stored.updated_at = utcnow()
                session.add(stored)
            await session.commit()
        public = await self.visible(principal, reflection_id)
        return IdeaDrafted(idea_id=idea_id, created=True, reflection=public)

    async def _post_idea(
        self, principal: Principal, loaded: Loaded, body: IdeaFromAction, action: str
    ) -> uuid.UUID:
        team = body.team
        if team is None:
            if len(principal.teams) != 1:
                raise Unprocessable("say which of your teams the idea is for", code="team_required")
            team = next(iter(principal.teams))
        elif team not in principal.teams:
            raise Unprocessable("the idea must be for one of your teams", code="not_your_team")
        summary = loaded.reflection.summary or {}
        async with self.database.reading() as session:  # only what the author may open now
            readable = await readable_documents(
                session, principal, views.cited_documents(loaded.turns)
            )
        documents = [
            d
            for d in dict.fromkeys(c["document_id"] for t in loaded.turns for c in t.passages)
            if str(d) in readable
        ]
        payload = {
            "title": body.title or views.title_of(action),
            "problem": summary.get("what_happened") or loaded.reflection.experience,
            "proposal": action,
            "team": team,
            "reflection_ids": [str(loaded.reflection.id)],
            "document_ids": documents[:20],
        }
        url = f"{self.settings.ideas_url.rstrip('/')}/v1/ideas"
        headers = {
            "Authorization": f"Bearer {principal.token}",
            "Idempotency-Key": idea_draft_key(loaded.reflection.id, body.action),
        }
        try:
            response = await self.http.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "the ideas service did not answer; nothing was changed", code="ideas_unavailable"
            ) from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(
                "the ideas service failed; nothing was changed", code="ideas_unavailable"
            )
        error = _error_of(response)
        first = error.get("details") if error.get("code") == "idempotency_key_reused" else None
        if response.status_code == 422 and isinstance(first, dict) and "id" in first:
            # This action already became an idea, from other words (a new title): that one.
            return uuid.UUID(str(first["id"]))
        if response.status_code not in (200, 201):  # 200: the first idea, replayed
            raise Unprocessable(
                "the ideas service refused the draft",
                code="idea_refused",
                details=response.json() if response.content else None,
            )
        return uuid.UUID(response.json()["id"])


def idea_draft_key(reflection_id: uuid.UUID, action: int) -> str:
    """The Idempotency-Key of turning one action of one reflection into an idea: every retry
    of it, by any replica, names the same create (docs/ideas.md, Idempotency-Key)."""
    return f"reflection-{reflection_id}-action-{action}"


def _error_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
