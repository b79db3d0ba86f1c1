"""REST routes of the whole service, across its subdomains: the caller's own data
(`/v1/my-data`, GDPR articles 15, 17 and 20); the rules are in gdpr.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from kit.auth import PrincipalDep
from kit.db import ReadSessionDep, SessionDep
from services.reflection.gdpr import erase, export

my_data = APIRouter(prefix="/v1", tags=["reflections"])


@my_data.get("/my-data", summary="Everything the reflection service holds about you (GDPR)")
async def export_my_data(
    request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Everything this service holds about the caller: their reflections (as they would read
    them now), their privacy choices, and the documents they made or own (`{id, title}`)."""
    return await export(session, principal, request.app.state.journal.catalogue)


@my_data.delete("/my-data", summary="Erase your data here (GDPR); safe to repeat")
async def erase_my_data(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> dict[str, int]:
    """Erases the caller's reflections, privacy choices, knowledge-gap pseudonyms and outbox
    messages here and answers how many went; repeating it deletes nothing more."""
    return await erase(session, principal.subject, request.app.state.pseudonym_key)
