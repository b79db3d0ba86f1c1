"""A person's own learning record: export and erasure (GDPR articles 15, 17 and 20).

The person is the platform account `{WERKVLOER_PUBLIC_URL}|{subject}` — the actor every
Werkvloer service writes. Erasure deletes every statement by them or naming them (as
instructor, team member, ...), their learning facts (found by pseudonym, so also those of
statements already voided) and marks the affected months for recomputation; LRS clients they
made keep working, marked as made by an erased person. Idempotent.

Exports hand out stored text made encodable (statements/formats.py): a value stored before the
entry rule (a lone surrogate, a NUL) shows as U+FFFD instead of failing the read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.cursors import KeysetCursor
from kit.personal import ERASED
from kit.pseudonyms import pseudonym
from services.analytics.credentials import repository as credentials
from services.analytics.metrics import repository as metrics
from services.analytics.metrics.service import forget_facts
from services.analytics.statements import repository as statements
from services.analytics.statements.formats import readable
from services.analytics.statements.keys import account_key
from services.analytics.statements.models import Statement
from services.analytics.statements.sizes import json_bytes

EXPORT_BATCH = 100


async def export(
    session: AsyncSession, public_url: str, subject: str, budget: int, after: str | None = None
) -> dict[str, Any]:
    """The statements by or naming the person, as stored (text made encodable), oldest first,
    at most `budget` bytes of them (at least one): `{"statements": [...], "more": link}`, where
    `more` is the relative link to the rest, or "".

    `after` is the `more` link's token. Raises InvalidCursor (400 `bad_request` naming `after`)
    when it is not one handed out."""
    me = account_key(public_url, subject)
    position = _position(after) if after is not None else None
    bodies: list[Any] = []
    used, last_row = 0, None
    while True:
        batch = await statements.naming_page(session, me, position, EXPORT_BATCH)
        for row in batch:
            body = readable(row.body)
            used += json_bytes(body) + 1
            if used > budget and bodies:
                return {"statements": bodies, "more": _more(last_row)}
            bodies.append(body)
            last_row = row
        if len(batch) < EXPORT_BATCH or last_row is None:
            return {"statements": bodies, "more": ""}
        position = (last_row.stored, last_row.id)


# A `more` link's token (kit/cursors.py); a bad one keeps the 400 `bad_request` it always had.
AFTER = KeysetCursor(
    parameter="after", message="after: not a position this service handed out", code="bad_request"
)


def _more(row: Statement | None) -> str:
    return "" if row is None else "/v1/my-data?after=" + AFTER.encode((row.stored, row.id))


def _position(token: str) -> tuple[datetime, uuid.UUID]:
    """Where an export part starts: a token `_more` wrote, or the readable `<ISO moment with
    offset>|<statement id>` links carried before kit/cursors.py (clients may have kept one,
    e.g. the epoch to start from). Raises InvalidCursor (400 `bad_request`) otherwise, also for
    a moment without an offset."""
    if "|" in token:
        stored, _, ident = token.partition("|")
        at, last = AFTER.check([stored, ident], (datetime, uuid.UUID))
    else:
        at, last = AFTER.decode(token, (datetime, uuid.UUID))
    try:
        return at.astimezone(UTC), last
    except OverflowError as exc:  # a moment at the edge of the calendar, shifted out of it
        raise AFTER.refuse() from exc


async def erase(session: AsyncSession, public_url: str, subject: str, key: bytes) -> dict[str, int]:
    """Erase the person's statements, their queued forwards, facts and last team in `session`'s
    transaction; returns `{"statements_deleted": n, "facts_deleted": n}` (0 and 0 when
    repeated). `key` keys the pseudonym their facts are found by."""
    me = account_key(public_url, subject)
    person = pseudonym(key, me)
    ids = await statements.ids_naming(session, me)
    facts = await forget_facts(session, ids, person)
    await statements.delete_with_attachments(session, ids)
    # Forwards still queued for another LRS would carry the person out after the erasure.
    await statements.forget_forwards(session, ids)
    await metrics.forget_team(session, person)
    await credentials.mark_made_by_erased(session, subject, ERASED)
    await session.flush()
    return {"statements_deleted": len(ids), "facts_deleted": facts}
