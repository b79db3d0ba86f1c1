"""REST route of knowledge gaps: parse, call gaps/service.py, present."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from kit.auth import PrincipalDep
from kit.db import ReadSessionDep
from services.reflection.gaps.models import GapList
from services.reflection.gaps.service import readable_processes, top_gaps

# Listed with the journal's routes in the OpenAPI document, where it has always been.
gaps = APIRouter(prefix="/v1", tags=["reflections"])


@gaps.get(
    "/knowledge-gaps",
    response_model=GapList,
    summary="Questions the documents could not answer (admins, analysts, document owners)",
)
async def knowledge_gaps(
    request: Request,
    session: ReadSessionDep,
    principal: PrincipalDep,
    process: Annotated[str | None, Query(max_length=100)] = None,
) -> GapList:
    """The most-met gaps the caller may read, each met by at least `min_group_size` people.
    Raises 403 `not_document_owner` for a worker who owns no document (of `process`)."""
    minimum = request.app.state.settings.min_group_size
    allowed = await readable_processes(session, principal, process)
    return GapList(min_group_size=minimum, gaps=await top_gaps(session, allowed, minimum))
