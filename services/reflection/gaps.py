"""Knowledge gaps: questions the organisation's documents could not answer.

A gap is kept as its process and its normalised words, never the person. Distinct people are
counted through a keyed pseudonym per (gap, person), so a gap is listed only once at least
`min_group_size` different people met it — which also keeps one person's own words (from a
private reflection) from ever being shown: only a question many asked is.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal, Role
from kit.db import Database, insert_ignoring_duplicates, utcnow
from kit.errors import Forbidden
from kit.pseudonyms import pseudonym
from services.reflection.language import FUNCTION_WORDS
from services.reflection.models import Document, KnowledgeGap, KnowledgeGapAsker

MAX_WORDS = 12
LISTED = 50
_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(question: str) -> str:
    """Lower case, content words only, each once, in the order asked: "Hoe vraag ik
    ouderschapsverlof aan?" and "ouderschapsverlof aanvragen hoe" stay different, but
    punctuation, case and filler words do not split one question into many."""
    words: list[str] = []
    for word in _WORD.findall(question.lower()):
        if len(word) >= 2 and word not in FUNCTION_WORDS and word not in words:
            words.append(word)
    return " ".join(words[:MAX_WORDS])[:300]


async def record_gap(
    database: Database, key: bytes, *, process: str | None, question: str, source: str, who: str
) -> None:
    """Count one more miss; its own short transaction, so it never holds up the caller's."""
    normalised = normalise(question)
    if not normalised:
        return
    process = (process or "")[:100]
    async with database.sessions() as session:
        await session.exec(
            insert_ignoring_duplicates(session, KnowledgeGap).values(
                id=uuid.uuid4(),
                process=process,
                question=normalised,
                occurrences=0,
                people=0,
                from_search=0,
                from_reflection=0,
                first_seen=utcnow(),
                last_seen=utcnow(),
            )
        )
        gap_id = (
            await session.exec(
                select(KnowledgeGap.id).where(
                    KnowledgeGap.process == process, KnowledgeGap.question == normalised
                )
            )
        ).one()
        added = await session.exec(
            insert_ignoring_duplicates(session, KnowledgeGapAsker).values(
                gap_id=gap_id, asker=pseudonym(key, str(gap_id), who)
            )
        )
        counter = KnowledgeGap.from_search if source == "search" else KnowledgeGap.from_reflection
        await session.exec(
            update(KnowledgeGap)
            .where(col(KnowledgeGap.id) == gap_id)
            .values(
                {
                    KnowledgeGap.occurrences: KnowledgeGap.occurrences + 1,
                    KnowledgeGap.people: KnowledgeGap.people + (1 if added.rowcount else 0),
                    counter: counter + 1,
                    KnowledgeGap.last_seen: utcnow(),
                }
            )
        )
        await session.commit()


class GapPublic(BaseModel):
    process: str | None
    question: str = Field(description="The normalised words of the question, not a person's text.")
    people: int = Field(description="Different people who met it; never below the minimum.")
    occurrences: int
    from_search: int
    from_reflection: int
    first_seen: datetime
    last_seen: datetime


class GapList(BaseModel):
    min_group_size: int
    gaps: list[GapPublic]


async def top_gaps(
    session: AsyncSession, processes: list[str] | None, min_group_size: int
) -> list[GapPublic]:
    """Most-met gaps first; `processes=None` means every process."""
    query = select(KnowledgeGap).where(col(KnowledgeGap.people) >= min_group_size)
    if processes is not None:
        query = query.where(col(KnowledgeGap.process).in_(processes))
    query = query.order_by(
        col(KnowledgeGap.people).desc(), col(KnowledgeGap.occurrences).desc(), col(KnowledgeGap.id)
    ).limit(LISTED)
    return [
        GapPublic(
            process=gap.process or None,
            question=gap.question,
            people=gap.people,
            occurrences=gap.occurrences,
            from_search=gap.from_search,
            from_reflection=gap.from_reflection,
            first_seen=gap.first_seen,
            last_seen=gap.last_seen,
        )
        for gap in (await session.exec(query)).all()
    ]


async def readable_processes(
    session: AsyncSession, principal: Principal, process: str | None
) -> list[str] | None:
    """Whose gaps the caller may list: every process (None) for admins and analysts, else the
    processes of documents they own; narrowed to `process` when one is asked for."""
    if principal.has_role(Role.admin, Role.analyst):
        allowed: list[str] | None = None
    else:
        owned = await session.exec(
            select(Document.process).where(Document.owner == principal.subject).distinct()
        )
        allowed = [p for p in owned.all() if p]
        if not allowed:
            raise Forbidden(
                "knowledge gaps are for admins, analysts and document owners",
                code="not_document_owner",
            )
    if process is None:
        return allowed
    if allowed is not None and process not in allowed:
        raise Forbidden("you own no document of this process", code="not_document_owner")
    return [process]
