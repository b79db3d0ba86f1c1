"""Knowledge gaps: questions the organisation's documents could not answer.

A gap is kept as its process and its normalised words, never the person. Distinct people are
counted through a keyed pseudonym per (gap, person), so a gap is listed only once at least
`min_group_size` different people met it — which also keeps one person's own words (from a
private reflection) from ever being shown: only a question many asked is.
"""

from __future__ import annotations

import re

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal, Role
from kit.db import Database, unit_of_work
from kit.errors import Forbidden
from kit.pseudonyms import pseudonym
from services.reflection.gaps import repository
from services.reflection.gaps.models import GapPublic
from services.reflection.language import FUNCTION_WORDS

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
    """Count one more miss of `question` by `who` (`source`: `search` or `reflection`); nothing
    for a question without content words. Its own short transaction, so it never holds up the
    caller's; `who` is stored only as a keyed pseudonym per gap (kit/pseudonyms.py)."""
    normalised = normalise(question)
    if not normalised:
        return
    process = (process or "")[:100]
    async with unit_of_work(database) as session:
        gap = await repository.gap_id(session, process, normalised)
        new_person = await repository.add_asker(session, gap, pseudonym(key, str(gap), who))
        await repository.count_miss(session, gap, new_person=new_person, source=source)


async def top_gaps(
    session: AsyncSession, processes: list[str] | None, min_group_size: int
) -> list[GapPublic]:
    """Up to LISTED gaps met by at least `min_group_size` people, most-met first;
    `processes=None` means every process."""
    found = await repository.most_met(session, processes, min_group_size, LISTED)
    return [
        GapPublic.model_validate({**gap.model_dump(), "process": gap.process or None})
        for gap in found
    ]


async def readable_processes(
    session: AsyncSession, principal: Principal, process: str | None
) -> list[str] | None:
    """Whose gaps the caller may list: every process (None) for admins and analysts, else the
    processes of documents they own; narrowed to `process` when one is asked for.

    Raises Forbidden (403 `not_document_owner`) for someone who owns no document, or none of
    `process`."""
    if principal.has_role(Role.admin, Role.analyst):
        allowed: list[str] | None = None
    else:
        allowed = await repository.owned_processes(session, principal.subject)
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
