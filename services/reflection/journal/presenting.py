"""A reflection as its reader may see it: the rows of the journal become the API's
`ReflectionPublic`, with every passage of a document the reader may not open now withheld, and
the questions and summary points resting on such a passage too (docs/reflection.md, "Who sees
what"; the rule itself is access.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from kit.auth import Principal
from services.reflection.access import readable_documents
from services.reflection.guide.base import cited_ids
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal.models import (
    Citation,
    IdeaLink,
    PointPublic,
    Reflection,
    ReflectionPublic,
    ReflectionStatus,
    ReflectionTurn,
    SummaryPublic,
    TurnPublic,
)
from services.reflection.journal.repository import JournalRepository

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


async def presented(
    repository: JournalRepository,
    principal: Principal,
    reflections: Sequence[Reflection],
    catalogue: dict[str, ReflectionModel],
) -> list[ReflectionPublic]:
    """`reflections` as `principal` may see them, in the same order, with their stages and
    shares read through `repository` and the reader's visibility of every cited document
    checked now, in one query (access.readable_documents). The caller has checked that the
    principal may read each reflection at all."""
    ids = [r.id for r in reflections]
    turns, shares = await repository.turns_of(ids), await repository.shares_of(ids)
    cited = cited_documents([t for i in ids for t in turns[i]])
    readable = await readable_documents(repository.session, principal, cited)
    return [
        public(r, turns[r.id], catalogue[r.model_key], shares.get(r.id, []), principal, readable)
        for r in reflections
    ]
