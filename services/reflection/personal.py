"""A person's data in the reflection service: export it, and erase it.

Erasure deletes their reflections (with stages and shares) and preferences, removes their
keyed pseudonyms from knowledge gaps (the gap stays, one person fewer), marks documents and
jobs they made as made by an erased person (documents belong to the organisation), and
deletes outbox messages that name them. Idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.personal import ERASED, forget_in_outbox
from kit.pseudonyms import pseudonym
from services.reflection import views
from services.reflection.access import readable_documents
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.models import (
    Document,
    IngestJob,
    KnowledgeGap,
    KnowledgeGapAsker,
    Reflection,
    ReflectionPreference,
)


async def export(
    session: AsyncSession, principal: Principal, catalogue: dict[str, ReflectionModel]
) -> dict[str, Any]:
    mine = (
        await session.exec(select(Reflection).where(Reflection.author_id == principal.subject))
    ).all()
    ids = [r.id for r in mine]
    turns, shares = await views.turns_of(session, ids), await views.shares_of(session, ids)
    # Passages are document text, not the person's data: shown only when they may open the
    # document at export time, like every other read (docs/reflection.md).
    cited = views.cited_documents([t for i in ids for t in turns[i]])
    readable = await readable_documents(session, principal, cited)
    preference = await session.get(ReflectionPreference, principal.subject)
    documents = (
        await session.exec(
            select(Document).where(
                (col(Document.created_by) == principal.subject)
                | (col(Document.owner) == principal.subject)
            )
        )
    ).all()
    return {
        "reflections": [
            views.public(
                r, turns[r.id], catalogue[r.model_key], shares.get(r.id, []), principal, readable
            ).model_dump(mode="json")
            for r in mine
        ],
        "preferences": {
            "share_with_analytics": preference.share_with_analytics if preference else True
        },
        "documents_made_or_owned": [{"id": str(d.id), "title": d.title} for d in documents],
    }


async def erase(session: AsyncSession, subject: str, key: bytes) -> dict[str, int]:
    ids = (await session.exec(select(Reflection.id).where(Reflection.author_id == subject))).all()
    await views.delete_rows(session, list(ids))
    await session.exec(
        delete(ReflectionPreference).where(col(ReflectionPreference.subject) == subject)
    )
    gaps = (await session.exec(select(KnowledgeGap.id))).all()
    mine = {pseudonym(key, str(gap_id), subject): gap_id for gap_id in gaps}
    found = (
        await session.exec(
            select(KnowledgeGapAsker).where(col(KnowledgeGapAsker.asker).in_(list(mine)))
        )
    ).all()
    for asker in found:
        await session.exec(
            update(KnowledgeGap)
            .where(col(KnowledgeGap.id) == asker.gap_id)
            .values(people=col(KnowledgeGap.people) - 1)
        )
        await session.delete(asker)
    await session.exec(
        update(Document).where(col(Document.created_by) == subject).values(created_by=ERASED)
    )
    await session.exec(update(Document).where(col(Document.owner) == subject).values(owner=None))
    await session.exec(
        update(IngestJob).where(col(IngestJob.created_by) == subject).values(created_by=ERASED)
    )
    outbox = await forget_in_outbox(session, subject)
    await session.flush()
    return {
        "reflections_deleted": len(ids),
        "knowledge_gap_pseudonyms_removed": len(found),
        "outbox_messages_deleted": outbox,
    }
