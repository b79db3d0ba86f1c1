"""Rows of the journal ↔ what the API shows, and the queries every view needs."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.errors import InvalidParameter, NotFound
from services.reflection.guide.base import Answered, GuideSummary, Passage, cited_ids
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal_models import (
    Citation,
    IdeaLink,
    PointPublic,
    ReflectionPublic,
    SummaryPublic,
    TurnPublic,
)
from services.reflection.models import Reflection, ReflectionShare, ReflectionStatus, ReflectionTurn


def passage_record(passage: Passage) -> dict[str, Any]:
    return {
        "id": passage.cite,
        "chunk_id": passage.chunk_id,
        "document_id": passage.document_id,
        "document_title": passage.title,
        "section": passage.section,
        "text": passage.text,
    }


def passage_of(record: dict[str, Any]) -> Passage:
    return Passage(
        cite=record["id"],
        chunk_id=record["chunk_id"],
        document_id=record["document_id"],
        title=record["document_title"],
        section=list(record["section"]),
        text=record["text"],
    )


def answered(turns: Sequence[ReflectionTurn], model: ReflectionModel) -> list[Answered]:
    return [
        Answered(f"a{t.stage_index + 1}", model.stages[t.stage_index], t.question, t.answer)
        for t in turns
        if t.answer is not None
    ]


def summary_record(summary: GuideSummary) -> dict[str, Any]:
    return {
        "what_happened": summary.what_happened,
        "learning_points": [
            {"text": p.text, "citations": p.citations} for p in summary.learning_points
        ],
        "actions": [{"text": p.text, "citations": p.citations} for p in summary.actions],
        "engine": summary.engine,
        "notice": summary.notice,
        "stripped_citations": summary.stripped,
    }


def make_cursor(reflection: Reflection) -> str:
    raw = f"{reflection.created_at.isoformat()}|{reflection.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def read_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, last = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(last)
    except ValueError as exc:
        raise InvalidParameter(
            "cursor", "the cursor is not one this API gave out", code="bad_cursor"
        ) from exc


def title_of(action: str) -> str:
    """An idea title from an action sentence: its first 150 characters, cut at a word."""
    text = " ".join(action.split()).rstrip(".")
    return text if len(text) <= 150 else text[:147].rsplit(" ", 1)[0] + "…"


WITHHELD = {
    "nl": "(rust op een passage die je niet kunt openen)",
    "en": "(rests on a passage you cannot open)",
}


def cited_documents(turns: Sequence[ReflectionTurn]) -> set[str]:
    """The documents whose passages `turns` show: what `access.readable_documents` checks."""
    return {str(record["document_id"]) for t in turns for record in t.passages}


def citation(record: dict[str, Any], readable: frozenset[str]) -> Citation:
    """A stored passage as the reader may see it: whole when its document is in `readable`,
    else "a passage you cannot open" — its id only, so the numbering still reads."""
    if str(record["document_id"]) in readable:
        return Citation(**record, readable=True)
    return Citation(
        id=record["id"],
        readable=False,
        chunk_id=None,
        document_id=None,
        document_title=None,
        section=[],
        text=None,
    )


def _unreadable(turns: Sequence[ReflectionTurn], readable: frozenset[str]) -> set[str]:
    return {
        record["id"]
        for t in turns
        for record in t.passages
        if str(record["document_id"]) not in readable
    }


def _point(stored: dict[str, Any], hidden: set[str], language: str) -> PointPublic:
    if hidden & set(stored["citations"]):  # an engine may have paraphrased the passage
        return PointPublic(
            text=WITHHELD.get(language, WITHHELD["en"]), citations=stored["citations"]
        )
    return PointPublic(**stored)


def _question(turn: ReflectionTurn, model: ReflectionModel, language: str, hidden: set[str]) -> str:
    """The question as asked, or — when it rests on a passage the reader cannot open (it
    quotes it, names its document) — the stage's own question, which quotes nothing."""
    if any(record["id"] in hidden for record in turn.passages):
        return model.stages[turn.stage_index].question.get(language)
    return turn.question


def public(
    reflection: Reflection,
    turns: Sequence[ReflectionTurn],
    model: ReflectionModel,
    shared_with: list[str],
    principal: Principal,
    readable: frozenset[str],
) -> ReflectionPublic:
    """The reflection as `principal` may see it. `readable`: the cited documents the reader
    may open now (`access.readable_documents` over `cited_documents(turns)`); passages of the
    others, and questions and summary points resting on them, are withheld."""
    language = reflection.language
    hidden = _unreadable(turns, readable)
    citations = [citation(record, readable) for t in turns for record in t.passages]
    summary = None
    if reflection.summary is not None:
        stored = reflection.summary
        happened = stored["what_happened"]
        if hidden & set(cited_ids(happened)):
            happened = WITHHELD.get(language, WITHHELD["en"])
        summary = SummaryPublic(
            what_happened=happened,
            learning_points=[_point(p, hidden, language) for p in stored["learning_points"]],
            actions=[_point(p, hidden, language) for p in stored["actions"]],
            citations=citations,
            engine=stored["engine"],
            notice=stored["notice"],
            stripped_citations=stored["stripped_citations"],
        )
    waiting = reflection.status == ReflectionStatus.open and reflection.stage_index < len(
        model.stages
    )
    return ReflectionPublic(
        id=reflection.id,
        model=model.key,
        model_name=model.name.get(language),
        language=language,
        process=reflection.process,
        experience=reflection.experience,
        status=ReflectionStatus(reflection.status),
        is_mine=reflection.author_id == principal.subject,
        current_stage=model.stages[reflection.stage_index].key if waiting else None,
        stages=[
            TurnPublic(
                stage=t.stage_key,
                title=model.stages[t.stage_index].title.get(language),
                question=_question(t, model, language, hidden),
                citations=[citation(record, readable) for record in t.passages],
                answer=t.answer,
                answer_id=f"a{t.stage_index + 1}",
                engine=t.engine,
                notice=t.notice,
                stripped_citations=list(t.stripped_citations),
                asked_at=t.asked_at,
                answered_at=t.answered_at,
            )
            for t in turns
        ],
        remaining_stages=[s.key for s in model.stages[len(turns) :]],
        shared_with=sorted(shared_with),
        summary=summary,
        ideas=[
            IdeaLink(action=i["action"], idea_id=uuid.UUID(i["idea_id"])) for i in reflection.ideas
        ],
        created_at=reflection.created_at,
        updated_at=reflection.updated_at,
        finished_at=reflection.finished_at,
    )


async def shares_of(
    session: AsyncSession, reflection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    rows = await session.exec(
        select(ReflectionShare).where(col(ReflectionShare.reflection_id).in_(reflection_ids))
    )
    teams: dict[uuid.UUID, list[str]] = defaultdict(list)
    for share in rows.all():
        teams[share.reflection_id].append(share.team)
    return teams


async def turns_of(
    session: AsyncSession, reflection_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ReflectionTurn]]:
    rows = await session.exec(
        select(ReflectionTurn)
        .where(col(ReflectionTurn.reflection_id).in_(reflection_ids))
        .order_by(col(ReflectionTurn.stage_index))
    )
    turns: dict[uuid.UUID, list[ReflectionTurn]] = defaultdict(list)
    for turn in rows.all():
        turns[turn.reflection_id].append(turn)
    return turns


async def lock_own(
    session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
) -> Reflection:
    """The reflection, fresh from the database and locked until the transaction ends, if it
    exists and `principal` wrote it; else 404 `reflection_not_found`.

    Every write to one reflection (and to the rows that reference it) begins here, in the
    transaction that writes: a row lock on PostgreSQL (`SELECT … FOR UPDATE`), SQLite's one
    write lock (taken at `BEGIN IMMEDIATE`, kit/db.py) on SQLite. So a delete and a share, an
    answer, a finish or an idea link are serialised: the one that comes second finds the
    reflection gone (404) or changed, and never writes a row whose reflection was deleted.
    """
    statement = (
        select(Reflection)
        .where(Reflection.id == reflection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    found = (await session.exec(statement)).first()
    if found is None or found.author_id != principal.subject:
        raise NotFound("no such reflection", code="reflection_not_found")
    return found


async def delete_rows(session: AsyncSession, reflection_ids: Sequence[uuid.UUID]) -> int:
    """Delete the reflections with their stages and shares; returns how many reflections were
    there. Their rows are locked first (in id order, so two erasures cannot deadlock): a share
    or an answer that got there first commits before the delete sees its rows."""
    locked = select(Reflection.id).where(col(Reflection.id).in_(reflection_ids))
    found = (await session.exec(locked.order_by(col(Reflection.id)).with_for_update())).all()
    for table, column in (
        (ReflectionTurn, ReflectionTurn.reflection_id),
        (ReflectionShare, ReflectionShare.reflection_id),
        (Reflection, Reflection.id),
    ):
        await session.exec(delete(table).where(col(column).in_(reflection_ids)))
    return len(found)
