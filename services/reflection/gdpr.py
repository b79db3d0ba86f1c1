"""A person's data in the reflection service: export it, and erase it (GDPR articles 15, 17 and
20), over every subdomain — the journal's reflections and preferences, the knowledge gaps'
pseudonyms, the documents and jobs a person made, the outbox.

Erasure deletes their reflections (with stages and shares) and preferences, removes their keyed
pseudonyms from knowledge gaps (the gap stays, one person fewer), marks documents and jobs they
made as made by an erased person (documents belong to the organisation), and deletes outbox
messages that name them. Idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.personal import forget_in_outbox
from kit.pseudonyms import pseudonym
from services.reflection.documents import repository as documents
from services.reflection.gaps import repository as gaps
from services.reflection.guide.catalogue import ReflectionModel
from services.reflection.journal.presenting import presented
from services.reflection.journal.repository import JournalRepository

# Where this service's outbox statements name a person: `name` (an xAPI account), and, like
# every payload of the platform, `subject` and the person column `author_id`.
PERSON_KEYS = ("subject", "name", "author_id")


async def export(
    session: AsyncSession, principal: Principal, catalogue: dict[str, ReflectionModel]
) -> dict[str, Any]:
    """Everything this service holds about `principal`: `reflections` (as they would read them
    now), `preferences` and `documents_made_or_owned` (`{id, title}`)."""
    journal = JournalRepository(session)
    # Passages are document text, not the person's data: shown only when they may open the
    # document at export time, like every other read (docs/reflection.md).
    mine = await presented(
        journal, principal, await journal.of_author(principal.subject), catalogue
    )
    preference = await journal.preference(principal.subject)
    made_or_owned = await documents.made_or_owned_by(session, principal.subject)
    return {
        "reflections": [reflection.model_dump(mode="json") for reflection in mine],
        "preferences": {
            "share_with_analytics": preference.share_with_analytics if preference else True
        },
        "documents_made_or_owned": [{"id": str(d.id), "title": d.title} for d in made_or_owned],
    }


async def erase(session: AsyncSession, subject: str, key: bytes) -> dict[str, int]:
    """Erase `subject` here (see the module's docstring); safe to repeat. Returns how many
    reflections, knowledge-gap pseudonyms and outbox messages went."""
    journal = JournalRepository(session)
    deleted = await journal.delete([r.id for r in await journal.of_author(subject)])
    await journal.delete_preference(subject)
    # A gap's askers are keyed per gap, so their pseudonyms are recomputed for every gap.
    mine = [pseudonym(key, str(gap_id), subject) for gap_id in await gaps.all_gap_ids(session)]
    found = await gaps.askers_among(session, mine)
    for asker in found:
        await gaps.remove_asker(session, asker)
    await documents.forget_person(session, subject)
    outbox = await forget_in_outbox(session, subject, PERSON_KEYS)
    await session.flush()
    return {
        "reflections_deleted": deleted,
        "knowledge_gap_pseudonyms_removed": len(found),
        "outbox_messages_deleted": outbox,
    }
