"""Who may read what: a reflection (its author, and members of a team it is shared with), and a
document — the one rule, applied by every surface that shows document text.

A reflection is private to its author, also to admins; sharing it with a team makes it readable,
never writable, by that team's members (docs/reflection.md, "Who sees what").

A document is readable by a person when it is open to everyone (`*`) or to one of their teams,
and it has a live version; admins read every document. The rule is applied to the *reader*,
at the moment they read — never to whoever wrote a reflection, searched, or made an export
earlier — so a passage cited in a reflection shared with another team, or a passage of a
document whose visibility changed or which was deleted, is shown only to those who may open the
document now (issue 12, item 4). Search applies the same rule inside the index query
(`index_teams`), so nothing unreadable is even fetched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from services.reflection.documents import repository
from services.reflection.documents.models import Document
from services.reflection.index.base import EVERYONE


def can_read_reflection(author_id: str, shared_with: Iterable[str], principal: Principal) -> bool:
    """True when `principal` may read a reflection by `author_id` shared with the teams
    `shared_with`: they wrote it, or they belong to one of those teams. Being an admin grants
    nothing (docs/architecture.md, "Reflections are private even to admins")."""
    return author_id == principal.subject or bool(set(shared_with) & principal.teams)


def can_read(document: Document | None, principal: Principal) -> bool:
    """True when `principal` may open `document` now (None — a deleted document — is never
    readable). Source: docs/reflection.md, "Who sees what"."""
    if document is None:
        return False
    if principal.is_admin:
        return True
    if document.live_version is None:
        return False
    return EVERYONE in document.teams or bool(set(document.teams) & principal.teams)


def index_teams(principal: Principal) -> list[str] | None:
    """`can_read` as a vector-index filter on a chunk's teams: None (no restriction) for admins,
    else the caller's teams (chunks open to `*` match every filter). Hidden versions are
    excluded by the caller (search/repository.py hidden_versions)."""
    return None if principal.is_admin else sorted(principal.teams)


async def readable_documents(
    session: AsyncSession, principal: Principal, document_ids: Iterable[str | uuid.UUID]
) -> frozenset[str]:
    """Of `document_ids`, those `principal` may read now, as strings; one query."""
    wanted: set[uuid.UUID] = set()
    for value in document_ids:
        try:
            wanted.add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            continue  # a malformed stored id names no document anyone may read
    if not wanted:
        return frozenset()
    found = await repository.documents_among(session, sorted(wanted))
    return frozenset(str(d.id) for d in found if can_read(d, principal))
