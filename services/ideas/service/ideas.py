"""The domain rules of ideas: who may do what, in which state, and what it sets in motion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kit import xapi
from kit.auth import Principal, Role
from kit.db import utcnow
from kit.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from kit.outbox import enqueue
from services.ideas import outgoing_webhooks, xapi_statements
from services.ideas.fields import Status
from services.ideas.idempotency import authored, fingerprint, replay
from services.ideas.models import (
    Idea,
    IdeaCreate,
    IdeaPublic,
    IdeaTransition,
    IdeaUpdate,
    Person,
    TransitionPublic,
)
from services.ideas.preconditions import StaleVersion
from services.ideas.repository.ideas import IdeaFilter, IdeasRepository, Sort
from services.ideas.repository.webhooks import WebhooksRepository
from services.ideas.service.workflow import (
    EDITABLE_CONTENT,
    IMPACT_RECORDABLE,
    NOT_SUPPORTABLE,
    IdeaNotOpen,
    TransitionRefused,
    check_transition,
)
from services.ideas.settings import IdeasSettings
from services.ideas.text import search_text, tag_index

CONTENT_FIELDS = ("title", "problem", "proposal", "tags", "expected_impact")
LINK_FIELDS = ("reflection_ids", "document_ids")
IMPACT_FIELDS = ("expected_impact", "realized_impact")


class IdeaNotFound(NotFound):
    """404 `idea_not_found`: no such idea, or someone else's draft."""

    code = "idea_not_found"


class TransitionConflict(Conflict):
    """409: the idea changed since the caller read it, so their decision is not applied."""

    code = "transition_conflict"


def stored(data: IdeaCreate | IdeaUpdate, fields: set[str]) -> dict[str, Any]:
    """The column values of `fields` of an input shape: tags sorted once each (with their
    `tag_index`), impacts as dicts without their empty scales, links as UUID text."""
    values: dict[str, Any] = {}
    for field in fields:
        value = getattr(data, field)
        if field == "tags":
            value = sorted(set(value or []))
            values["tag_index"] = tag_index(value)
        elif field in IMPACT_FIELDS:
            value = value.model_dump(exclude_none=True) if value else None
        elif field in LINK_FIELDS:
            value = [str(i) for i in value or []]
        values[field] = value
    return values


class IdeasService:
    """The rules about ideas for one caller (`principal`) in one session (the request's)."""

    def __init__(
        self, session: AsyncSession, principal: Principal, settings: IdeasSettings
    ) -> None:
        self.session = session
        self.me = principal
        self.settings = settings
        self.repo = IdeasRepository(session)
        self.hooks = WebhooksRepository(session)
        self.public_url = settings.platform.public_url

    # -- who is who --
    def is_author(self, idea: Idea) -> bool:
        """Whether the caller wrote the idea."""
        return idea.author_id == self.me.subject

    def is_team_coach(self, idea: Idea) -> bool:
        """Whether the caller is a coach of the idea's team."""
        return self.me.has_role(Role.coach) and idea.team in self.me.teams

    # -- presenting: the one place that decides whether the author is shown --
    def present(self, idea: Idea, supported: bool, following: bool) -> IdeaPublic:
        """The idea as the caller may see it (the one place that decides whether the
        author is shown), with whether they support and follow it."""
        show_author = not idea.anonymous or self.is_author(idea)
        return IdeaPublic.model_validate(
            {
                **idea.model_dump(),
                "author": Person(subject=idea.author_id, name=idea.author_name)
                if show_author
                else None,
                "is_mine": self.is_author(idea),
                "supported_by_me": supported,
                "following": following,
                # An impact with every scale empty reads as no impact at all.
                "expected_impact": idea.expected_impact or None,
                "realized_impact": idea.realized_impact or None,
            }
        )

    async def present_many(self, ideas: list[Idea]) -> list[IdeaPublic]:
        """`present` for each idea, with the caller's supports and follows in two queries."""
        supported, followed = await self.repo.marks(self.me.subject, [i.id for i in ideas])
        return [self.present(i, i.id in supported, i.id in followed) for i in ideas]

    async def present_one(self, idea: Idea) -> IdeaPublic:
        """`present` for one idea."""
        return (await self.present_many([idea]))[0]

    # -- reading --
    async def visible(self, idea_id: uuid.UUID, *, lock: bool = False) -> Idea:
        """The idea or 404 `idea_not_found`; `lock`: FOR UPDATE, rules see committed state."""
        idea = await self.repo.get(idea_id, for_update=lock)
        if idea is None or (idea.status == Status.draft and not self.is_author(idea)):
            raise IdeaNotFound("no such idea")
        return idea

    async def page(
        self, filters: IdeaFilter, sort: Sort, limit: int, cursor: str | None
    ) -> tuple[list[tuple[Idea, bool, bool]], list[str], str | None]:
        """One page of the list for the caller: `(idea, supported, following)` rows, a cursor
        per row, and the next page's cursor (None at the end). Raises InvalidCursor (400)."""
        return await self.repo.page(self.me.subject, filters, sort, limit, cursor)

    # -- capture --
    async def create(
        self, data: IdeaCreate, idempotency_key: str | None = None
    ) -> tuple[Idea, bool]:
        """Capture an idea; returns `(idea, created)`. With an idempotency key already used by
        this caller, `(the first idea, False)` — or 422 `idempotency_key_reused` when the key
        came with another body (idempotency.py). 422 `unknown_team` for a team nobody made."""
        digest = fingerprint(data) if idempotency_key else None
        if idempotency_key and digest:
            first = await self.repo.idea_by_key(self.me.subject, idempotency_key)
            if first is not None:
                return replay(first, digest), False
        if await self.repo.team(data.team) is None:
            raise Unprocessable(f"there is no team {data.team!r}", code="unknown_team")
        now = utcnow()
        idea = Idea(
            **stored(data, set(IdeaCreate.model_fields) - {"submit"}),
            **authored(self.me, idempotency_key, digest),
            search_text=search_text(data.title, data.problem, data.proposal),
            created_at=now,
            updated_at=now,
        )
        if idempotency_key and digest:
            key = idempotency_key
            idea, created = await self.repo.add_once(
                idea, lambda: self.repo.idea_by_key(self.me.subject, key)
            )
            if not created:  # a concurrent retry inserted first
                return replay(idea, digest), False
        else:
            await self.repo.add(idea)
        await self.repo.add_follow(idea.id, self.me.subject)  # authors hear about their ideas
        await self._reload(idea)
        await self.announce("created", idea, now)
        if data.submit:
            idea = await self.transition(idea.id, Status.submitted, None, idea.version)
        return idea, True

    async def _reload(self, idea: Idea) -> Idea:
        await self.session.refresh(idea)
        return idea

    async def update(self, idea_id: uuid.UUID, expected_version: int, data: IdeaUpdate) -> Idea:
        """Change what the idea says, its links or its realised impact, if it is still at
        `expected_version`; returns the changed idea. Raises 404 `idea_not_found`, 422
        `empty_update`, 412 `stale_version`, 403 `not_author` / `not_allowed_to_record_impact`,
        409 `idea_not_editable` / `impact_not_recordable` (who and when: docs/ideas.md)."""
        idea = await self.visible(idea_id)
        changes = data.model_dump(exclude_unset=True)
        if not changes:
            raise Unprocessable("nothing to change", code="empty_update")
        if idea.version != expected_version:
            raise self._stale(idea)
        self._check_may_update(idea, set(changes))
        values: dict[str, Any] = {"updated_at": utcnow(), **stored(data, set(changes))}
        if {"title", "problem", "proposal"} & set(changes):
            values["search_text"] = search_text(
                values.get("title", idea.title),
                values.get("problem", idea.problem),
                values.get("proposal", idea.proposal),
            )
        if not await self.repo.update_if_version(idea_id, expected_version, values):
            raise self._stale(await self.visible(idea_id))
        return await self.visible(idea_id)

    async def discard(self, idea_id: uuid.UUID, seen_version: int) -> None:
        """Delete the caller's own draft for good (what the reflection service calls when the
        reflection a draft came from was deleted meanwhile). Raises 404 `idea_not_found` (a
        draft is its author's only), 409 `idea_not_draft` (submitted: withdraw it instead),
        412 `stale_version` when it changed since `seen_version`."""
        idea = await self.visible(idea_id)
        if idea.status != Status.draft:
            raise Conflict("only a draft can be discarded: withdraw it", code="idea_not_draft")
        if not await self.repo.delete_draft(idea_id, seen_version):
            raise self._stale(await self.visible(idea_id))

    def _stale(self, idea: Idea) -> StaleVersion:
        return StaleVersion(
            "the idea changed since you read it: reload and try again",
            details={"current_version": idea.version, "current_status": idea.status},
        )

    def _conflict(self, idea: Idea, target: Status) -> TransitionConflict:
        return TransitionConflict(
            f"someone changed this idea since you read it (it is now {idea.status}): "
            "reload it and decide again",
            details={
                "current_version": idea.version,
                "current_status": idea.status,
                "status_reason": idea.status_reason,
                "to": target.value,
            },
        )

    def _check_may_update(self, idea: Idea, fields: set[str]) -> None:
        admin = self.me.is_admin
        touches_text = bool(fields & (set(CONTENT_FIELDS) | set(LINK_FIELDS)))
        if touches_text and not (self.is_author(idea) or admin):
            raise Forbidden("only the author may change what the idea says", code="not_author")
        if fields & set(CONTENT_FIELDS) and Status(idea.status) not in EDITABLE_CONTENT:
            raise Conflict(
                "the idea is under review: its content can no longer change",
                code="idea_not_editable",
            )
        if fields & set(LINK_FIELDS) and idea.status == Status.withdrawn:
            raise Conflict("the idea was withdrawn", code="idea_not_editable")
        if "realized_impact" in fields:
            if not (self.is_author(idea) or self.is_team_coach(idea) or admin):
                raise Forbidden(
                    "only the author or a coach of the team records realised impact",
                    code="not_allowed_to_record_impact",
                )
            if Status(idea.status) not in IMPACT_RECORDABLE:
                raise Conflict(
                    "realised impact is recorded once the idea is piloted or implemented",
                    code="impact_not_recordable",
                )

    # -- workflow --
    async def transition(
        self, idea_id: uuid.UUID, target: Status, reason: str | None, seen_version: int
    ) -> Idea:
        """Move the idea to `target`, if it is still at `seen_version` (the caller's If-Match).

        Raises 404 `idea_not_found`, 409 `transition_conflict` (details: the current version,
        status and reason) when it changed since it was read — also when a concurrent request
        wins the atomic compare-and-set — 409 `transition_not_allowed`, 403
        `transition_forbidden`, 422 `reason_required` (rules in workflow.py)."""
        idea = await self.visible(idea_id)
        current = Status(idea.status)
        if idea.version != seen_version:
            raise self._conflict(idea, target)
        try:
            check_transition(
                current,
                target,
                is_author=self.is_author(idea),
                is_team_coach=self.is_team_coach(idea),
                is_admin=self.me.is_admin,
                reason=reason,
            )
        except TransitionRefused as refused:
            error: AppError
            if refused.forbidden:
                error = Forbidden(refused.message, code=refused.code)
            elif refused.code == "reason_required":
                error = Unprocessable(refused.message, code=refused.code)
            else:
                error = Conflict(refused.message, code=refused.code)
            error.details = {"from": current.value, "to": target.value}
            raise error from None
        now = utcnow()
        values: dict[str, Any] = {
            "status": target.value,
            "status_reason": reason.strip() if reason else None,
            "updated_at": now,
        }
        if target is Status.submitted:
            values["submitted_at"] = now
        if not await self.repo.move(idea_id, seen_version, current, values):
            raise self._conflict(await self.visible(idea_id), target)
        await self.repo.add_transition(
            IdeaTransition(
                idea_id=idea_id,
                actor_id=self.me.subject,
                actor_name=self.me.name,
                from_status=current.value,
                to_status=target.value,
                reason=values["status_reason"],
                at=now,
            )
        )
        idea = await self.visible(idea_id)
        await self.announce(target.value, idea, now, from_status=current.value)
        return idea

    async def history(self, idea_id: uuid.UUID) -> list[TransitionPublic]:
        """The idea's moves, oldest first; the anonymous author's own moves name nobody
        except to that author. Raises 404 `idea_not_found`."""
        idea = await self.visible(idea_id)
        shown = []
        for row in await self.repo.transitions(idea_id):
            hidden = idea.anonymous and row.actor_id == idea.author_id and not self.is_author(idea)
            shown.append(
                TransitionPublic(
                    from_status=Status(row.from_status),
                    to_status=Status(row.to_status),
                    reason=row.reason,
                    at=row.at,
                    actor=None if hidden else Person(subject=row.actor_id, name=row.actor_name),
                )
            )
        return shown

    async def support(self, idea_id: uuid.UUID) -> Idea:
        """Idempotent; 404, 409 `own_idea`/`idea_not_open` (docs/ideas.md), on the locked row."""
        idea = await self.visible(idea_id, lock=True)
        if self.is_author(idea):
            raise Conflict("you cannot support your own idea", code="own_idea")
        if idea.status in NOT_SUPPORTABLE:
            raise IdeaNotOpen(f"a {idea.status} idea cannot be supported")
        if await self.repo.add_support(idea_id, self.me.subject):
            await self.announce("supported", await self.visible(idea_id), utcnow())
        return await self.visible(idea_id)

    async def unsupport(self, idea_id: uuid.UUID) -> Idea:
        """Take support back (idempotent, any state; 404 `idea_not_found`), on the locked row."""
        await self.visible(idea_id, lock=True)
        await self.repo.remove_support(idea_id, self.me.subject)
        return await self.visible(idea_id)

    async def follow(self, idea_id: uuid.UUID, on: bool) -> Idea:
        """Idempotent, any state, on the locked row; 404 `idea_not_found` (also: discarded)."""
        await self.visible(idea_id, lock=True)
        if on:
            await self.repo.add_follow(idea_id, self.me.subject)
        else:
            await self.repo.remove_follow(idea_id, self.me.subject)
        return await self.visible(idea_id)

    # -- what the outside world learns --
    async def announce(
        self,
        kind: str,
        idea: Idea,
        at: datetime,
        *,
        from_status: str | None = None,
        comment_id: uuid.UUID | None = None,
    ) -> None:
        """Record that the caller did `kind` (`created`, `supported`, `commented`, or the status
        moved to) to `idea`, in this transaction: an xAPI statement in the outbox for analytics
        and a delivery for every webhook subscribed to the event (xapi_statements.py,
        outgoing_webhooks.py). Neither names the anonymous author acting on their own idea."""
        event = xapi_statements.IdeaEvent(kind, idea, self.me, at, from_status, comment_id)
        statement = xapi_statements.statement(self.public_url, event)
        enqueue(self.session, xapi.XAPI_TOPIC, uuid.UUID(statement["id"]), statement)
        name = outgoing_webhooks.event_of(kind)
        hooks = await self.hooks.subscribed(name)
        if hooks:
            self.hooks.queue(hooks, name, outgoing_webhooks.payload(name, event))
