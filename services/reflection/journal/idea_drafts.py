"""Turning one action of a finished reflection into an idea draft in the ideas service.

Two services, two commits: the ideas service commits the draft, then this service commits the
link in the reflection. Two rules make that safe (docs/guided-reflection.md, "An idea from an
action"):

- A retry never makes a second idea: the create carries an Idempotency-Key of the reflection
  and the action (`idea_draft_key`), so the ideas service hands back the first draft.
- No idea outlives a reflection deleted before the answer: the link is written in a
  transaction that locks the reflection (`JournalRepository.lock_own`). When the reflection
  was deleted meanwhile, the draft this call made is discarded again (`DELETE /v1/ideas/{id}`
  with the worker's own token and the draft's ETag) and the caller gets 404
  `reflection_not_found`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from kit import errors
from kit.auth import Principal
from kit.db import utcnow
from kit.errors import Conflict, NotFound, Unprocessable
from kit.http import url_path
from kit.service_client import Reply, ServiceClient, ServiceUnavailable
from services.reflection.access import readable_documents
from services.reflection.journal.models import IdeaDrafted, IdeaFromAction, ReflectionStatus
from services.reflection.journal.presenting import cited_documents
from services.reflection.journal.repository import JournalRepository

if TYPE_CHECKING:
    from services.reflection.journal.service import Journal, Loaded


def title_of(action: str) -> str:
    """An idea title from an action sentence: its first 150 characters (the ideas service's
    limit), cut at a word and marked with an ellipsis when cut."""
    text = " ".join(action.split()).rstrip(".")
    return text if len(text) <= 150 else text[:147].rsplit(" ", 1)[0] + "…"


def idea_draft_key(reflection_id: uuid.UUID, action: int) -> str:
    """The Idempotency-Key of turning one action of one reflection into an idea: every retry
    of it, by any replica, names the same create (docs/ideas.md, Idempotency-Key)."""
    return f"reflection-{reflection_id}-action-{action}"


@dataclass(frozen=True)
class Draft:
    """An idea draft as the ideas service answered its create."""

    idea_id: uuid.UUID
    etag: str | None  # for If-Match when it has to be discarded again
    created: bool  # made by this call (201), not the first draft handed back (200)


class IdeasClient:
    """The two calls this service makes to the ideas service, with the worker's own token,
    through kit's service client (time limit, breaker, request id and trace context; the keyed
    create and the discard are retried, `TRIES` tries in all)."""

    TRIES = 3

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self.client = ServiceClient("ideas", base_url, http, retries=self.TRIES - 1)

    async def create(self, principal: Principal, payload: dict[str, Any], key: str) -> Draft:
        """`POST /v1/ideas` with `Idempotency-Key: key`, which the ideas service honours
        (services/ideas/idempotency.py), so a retry never makes a second idea. Returns the
        draft; when the key already made an idea from other words (a new title), that idea
        (`created` False). Raises ServiceUnavailable (503 `ideas_unavailable`: no answer, a
        5xx, or its breaker is open; nothing was changed) and Unprocessable (422
        `idea_refused`, the ideas service's error body in `details`)."""
        reply = await self._call("POST", "/v1/ideas", principal, json=payload, idempotency_key=key)
        error = _error_of(reply.body)
        first = error.get("details") if error.get("code") == "idempotency_key_reused" else None
        if reply.status == 422 and isinstance(first, dict) and "id" in first:
            return Draft(uuid.UUID(str(first["id"])), None, created=False)
        if reply.status not in (200, 201):  # 200: the first idea, replayed
            raise Unprocessable(
                "the ideas service refused the draft", code="idea_refused", details=reply.body
            )
        return Draft(uuid.UUID(reply.body["id"]), reply.headers.get("ETag"), reply.status == 201)

    async def discard(self, principal: Principal, draft: Draft) -> None:
        """`DELETE /v1/ideas/{id}` with the draft's ETag. Done when it answers 204 or 404 (gone
        already), and also on 409/412: the worker has submitted or changed the draft meanwhile,
        so it is theirs now. Raises ServiceUnavailable (503 `ideas_unavailable`, naming the
        draft in `details.idea_id`) when the ideas service cannot be reached."""
        path = url_path("/v1/ideas/{id}", id=draft.idea_id)
        try:
            await self._call("DELETE", path, principal, headers={"If-Match": draft.etag or '"1"'})
        except errors.ServiceUnavailable as exc:
            raise errors.ServiceUnavailable(
                "the reflection was deleted meanwhile, and the idea draft made from it could "
                "not be removed: it is in your ideas",
                code="ideas_unavailable",
                details={"idea_id": str(draft.idea_id)},
            ) from exc

    async def _call(self, method: str, path: str, principal: Principal, **options: Any) -> Reply:
        try:
            return await self.client.request(
                method, path, token=principal.token, caller=principal.subject, **options
            )
        except ServiceUnavailable as exc:
            raise errors.ServiceUnavailable(
                "the ideas service did not answer; nothing was changed", code="ideas_unavailable"
            ) from exc


async def draft_idea(
    journal: Journal,
    reads: AsyncSession,
    session: AsyncSession,
    principal: Principal,
    reflection_id: uuid.UUID,
    body: IdeaFromAction,
) -> IdeaDrafted:
    """Turn action `body.action` of the author's finished reflection into an idea draft, linked
    both ways. Returns the draft (`created` False when this action was turned into one before).
    Raises 404 `reflection_not_found` (also when the reflection is deleted while the draft is
    made: the draft is then discarded), 409 `reflection_not_finished`, 422 `unknown_action`,
    `team_required`, `not_your_team`, `idea_refused`, 503 `ideas_unavailable`."""
    loaded = await journal.own(reads, principal, reflection_id)
    reflection = loaded.reflection
    if reflection.status != ReflectionStatus.finished or reflection.summary is None:
        raise Conflict("finish the reflection first", code="reflection_not_finished")
    actions = reflection.summary["actions"]
    if body.action >= len(actions):
        raise Unprocessable(
            "no such action in the summary",
            code="unknown_action",
            details={"actions": len(actions)},
        )
    for link in reflection.ideas:
        if link["action"] == body.action:
            public = await journal.present(reads, principal, reflection_id)
            return IdeaDrafted(idea_id=uuid.UUID(link["idea_id"]), created=False, reflection=public)
    client = journal.ideas
    payload = await _payload(reads, principal, loaded, body, actions[body.action]["text"])
    draft = await client.create(principal, payload, idea_draft_key(reflection.id, body.action))
    try:
        repository = JournalRepository(session)
        stored = await repository.lock_own(principal, reflection_id)
        await repository.link_idea(stored, body.action, draft.idea_id, utcnow())
        public = await journal.present(session, principal, reflection_id)
    except NotFound:
        # Deleted while the ideas service made the draft: the worker is told nothing was made,
        # so nothing may be. A draft handed back (not made by this call) is left to the call
        # that made it, which either linked it before the delete or discards it here too.
        if draft.created:
            await client.discard(principal, draft)
        raise
    return IdeaDrafted(idea_id=draft.idea_id, created=True, reflection=public)


async def _payload(
    reads: AsyncSession, principal: Principal, loaded: Loaded, body: IdeaFromAction, action: str
) -> dict[str, Any]:
    team = body.team
    if team is None:
        if len(principal.teams) != 1:
            raise Unprocessable("say which of your teams the idea is for", code="team_required")
        team = next(iter(principal.teams))
    elif team not in principal.teams:
        raise Unprocessable("the idea must be for one of your teams", code="not_your_team")
    summary = loaded.reflection.summary or {}
    # Only documents the author may open now.
    readable = await readable_documents(reads, principal, cited_documents(loaded.turns))
    documents = [
        d
        for d in dict.fromkeys(c["document_id"] for t in loaded.turns for c in t.passages)
        if str(d) in readable
    ]
    return {
        "title": body.title or title_of(action),
        "problem": summary.get("what_happened") or loaded.reflection.experience,
        "proposal": action,
        "team": team,
        "reflection_ids": [str(loaded.reflection.id)],
        "document_ids": documents[:20],
    }


def _error_of(body: Any) -> dict[str, Any]:
    """The `error` object of an error body, or {} when there is none."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
