"""Asking one stage of a reflection: what the worker may read that bears on it (retrieval,
and a knowledge gap when nothing does), the guide's question, and the stage row to store.

Slow work (retrieval, a language model): the journal calls it with the request's read-only
session, before its write session is touched, so no write lock is held meanwhile. A miss is
counted as a knowledge gap in the gap's own short transaction (gaps/service.py), kept even when
the request's write then fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from services.reflection.gaps.service import record_gap
from services.reflection.guide.base import Answered, GuideQuestion, Passage, StageRequest, TokenSink
from services.reflection.guide.catalogue import ReflectionModel, Stage
from services.reflection.journal.models import Reflection, ReflectionTurn
from services.reflection.journal.records import passage_record
from services.reflection.search.models import SearchFilters, SearchRequest
from services.reflection.search.service import retrieve

if TYPE_CHECKING:
    from services.reflection.journal.service import Journal

PASSAGES_PER_STAGE = 3


async def _passages(
    journal: Journal,
    reads: AsyncSession,
    principal: Principal,
    reflection: Reflection,
    query: str,
    first: int,
) -> list[Passage]:
    """What the worker may read that bears on this stage; none (and a gap) if nothing does."""
    threshold = journal.settings.gap_threshold
    processes = [reflection.process] if reflection.process else []
    request = SearchRequest(
        query=query[:2000], filters=SearchFilters(process=processes), k=PASSAGES_PER_STAGE
    )
    hits, relevance = await retrieve(reads, journal.index, journal.embedder, principal, request)
    if processes and relevance < threshold:  # the named process may lack the answer
        request = SearchRequest(query=query[:2000], k=PASSAGES_PER_STAGE)
        hits, relevance = await retrieve(reads, journal.index, journal.embedder, principal, request)
    if relevance < threshold:
        await record_gap(
            journal.database,
            journal.pseudonym_key,
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


async def ask(
    journal: Journal,
    reads: AsyncSession,
    principal: Principal,
    reflection: Reflection,
    model: ReflectionModel,
    stage: Stage,
    answered: list[Answered],
    sink: TokenSink | None,
    earlier: list[ReflectionTurn] | None = None,
) -> tuple[GuideQuestion, list[Passage]]:
    """The question for `stage` and the passages it rests on (none for a stage without a
    grounded question, or when nothing the worker may read bears on it)."""
    passages: list[Passage] = []
    if stage.grounded is not None:
        query = " ".join([reflection.experience, *(a.answer for a in answered[-1:])])
        first = reflection.passages_shown + 1
        passages = await _passages(journal, reads, principal, reflection, query, first)
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
    return await journal.guide.ask(request, sink), passages


def turn(
    catalogue: dict[str, ReflectionModel],
    reflection: Reflection,
    index: int,
    question: GuideQuestion,
    passages: list[Passage],
) -> ReflectionTurn:
    """The stage row for `question`, not yet added to any session."""
    return ReflectionTurn(
        reflection_id=reflection.id,
        stage_index=index,
        stage_key=catalogue[reflection.model_key].stages[index].key,
        question=question.text,
        passages=[passage_record(p) for p in passages],
        engine=question.engine,
        notice=question.notice,
        stripped_citations=question.stripped,
    )
