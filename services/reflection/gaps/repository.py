"""Every query on knowledge gaps, their askers, and the document owners who may read them.

Functions flush, never commit: the caller's session owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_ignoring_duplicates, utcnow
from services.reflection.documents.models import Document
from services.reflection.gaps.models import KnowledgeGap, KnowledgeGapAsker


async def gap_id(session: AsyncSession, process: str, question: str) -> uuid.UUID:
    """The id of the gap (process, normalised question), inserting it first when new; safe
    when two transactions insert the same gap at once."""
    now = utcnow()
    await session.exec(
        insert_ignoring_duplicates(session, KnowledgeGap).values(
            id=uuid.uuid4(),
            process=process,
            question=question,
            occurrences=0,
            people=0,
            from_search=0,
            from_reflection=0,
            first_seen=now,
            last_seen=now,
        )
    )
    found = select(KnowledgeGap.id).where(
        KnowledgeGap.process == process, KnowledgeGap.question == question
    )
    return (await session.exec(found)).one()


async def add_asker(session: AsyncSession, gap: uuid.UUID, asker: str) -> bool:
    """Record a pseudonymous asker of the gap; True when they had not asked it before."""
    added = await session.exec(
        insert_ignoring_duplicates(session, KnowledgeGapAsker).values(gap_id=gap, asker=asker)
    )
    return bool(added.rowcount)


async def count_miss(
    session: AsyncSession, gap: uuid.UUID, *, new_person: bool, source: str
) -> None:
    """One more occurrence of the gap (and one more person when `new_person`), counted under
    `source` (`search`, else reflection); one UPDATE, so concurrent misses all count."""
    counter = KnowledgeGap.from_search if source == "search" else KnowledgeGap.from_reflection
    await session.exec(
        update(KnowledgeGap)
        .where(col(KnowledgeGap.id) == gap)
        .values(
            {
                KnowledgeGap.occurrences: KnowledgeGap.occurrences + 1,
                KnowledgeGap.people: KnowledgeGap.people + (1 if new_person else 0),
                counter: counter + 1,
                KnowledgeGap.last_seen: utcnow(),
            }
        )
    )


async def most_met(
    session: AsyncSession, processes: list[str] | None, min_people: int, limit: int
) -> Sequence[KnowledgeGap]:
    """Up to `limit` gaps met by at least `min_people` people, most people first, then most
    occurrences, then id; `processes=None` means every process."""
    query = select(KnowledgeGap).where(col(KnowledgeGap.people) >= min_people)
    if processes is not None:
        query = query.where(col(KnowledgeGap.process).in_(processes))
    query = query.order_by(
        col(KnowledgeGap.people).desc(), col(KnowledgeGap.occurrences).desc(), col(KnowledgeGap.id)
    ).limit(limit)
    return (await session.exec(query)).all()


async def all_gap_ids(session: AsyncSession) -> Sequence[uuid.UUID]:
    """The id of every knowledge gap, in no particular order."""
    return (await session.exec(select(KnowledgeGap.id))).all()


async def askers_among(session: AsyncSession, askers: list[str]) -> Sequence[KnowledgeGapAsker]:
    """The recorded askers whose pseudonym is one of `askers`."""
    query = select(KnowledgeGapAsker).where(col(KnowledgeGapAsker.asker).in_(askers))
    return (await session.exec(query)).all()


async def remove_asker(session: AsyncSession, asker: KnowledgeGapAsker) -> None:
    """Delete one asker of a gap and count one person fewer on that gap; the gap stays."""
    await session.exec(
        update(KnowledgeGap)
        .where(col(KnowledgeGap.id) == asker.gap_id)
        .values(people=col(KnowledgeGap.people) - 1)
    )
    await session.delete(asker)


async def owned_processes(session: AsyncSession, owner: str) -> list[str]:
    """The named processes of documents whose owner is `owner`, each once."""
    owned = await session.exec(select(Document.process).where(Document.owner == owner).distinct())
    return [process for process in owned.all() if process]
