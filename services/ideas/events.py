"""What the outside world learns of an idea event: an xAPI statement for analytics (via the
outbox) and a webhook payload for each subscribed webhook, both in the same transaction.

Anonymity is enforced here: when the anonymous author acts, no statement or payload names them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit import xapi
from kit.auth import Principal
from kit.outbox import enqueue
from services.ideas.models import Idea, Webhook, WebhookDelivery

ACTIVITY_IDEA = "https://werkvloer.org/xapi/activities/idea"
ACTIVITY_COMMENT = "http://activitystrea.ms/schema/1.0/comment"
EXT_TEAM = "https://werkvloer.org/xapi/extensions/team"
EXT_FROM = "https://werkvloer.org/xapi/extensions/from-status"
EXT_TO = "https://werkvloer.org/xapi/extensions/to-status"
EXT_TAGS = "https://werkvloer.org/xapi/extensions/tags"
# For analytics: time to decision, and the realised impact of an implemented idea.
EXT_SUBMITTED_AT = "https://werkvloer.org/xapi/extensions/submitted-at"
EXT_REALIZED_IMPACT = "https://werkvloer.org/xapi/extensions/realized-impact"

# Registered verbs where one fits; the profile in docs/xapi-profile.md lists them all.
VERBS: dict[str, tuple[str, str]] = {
    "created": ("http://activitystrea.ms/schema/1.0/create", "created"),
    "submitted": ("http://activitystrea.ms/schema/1.0/submit", "proposed"),
    "in_review": ("http://id.tincanapi.com/verb/reviewed", "reviewed"),
    "accepted": ("http://activitystrea.ms/schema/1.0/accept", "adopted"),
    "piloting": ("https://werkvloer.org/xapi/verbs/piloted", "piloted"),
    "implemented": ("https://werkvloer.org/xapi/verbs/implemented", "implemented"),
    "rejected": ("http://activitystrea.ms/schema/1.0/reject", "rejected"),
    "parked": ("https://werkvloer.org/xapi/verbs/parked", "parked"),
    "withdrawn": ("http://activitystrea.ms/schema/1.0/retract", "withdrew"),
    "supported": ("http://id.tincanapi.com/verb/voted-up", "supported"),
    "commented": ("http://adlnet.gov/expapi/verbs/commented", "commented"),
}


def acts_anonymously(idea: Idea, actor: Principal) -> bool:
    return idea.anonymous and actor.subject == idea.author_id


def idea_iri(public_url: str, idea_id: uuid.UUID) -> str:
    return f"{public_url.rstrip('/')}/ideas/{idea_id}"


def _actor(public_url: str, idea: Idea, actor: Principal) -> dict[str, Any]:
    home = public_url.rstrip("/")
    if acts_anonymously(idea, actor):
        return xapi.anonymous_agent(home)
    return xapi.agent(home, actor.subject, actor.name)


def public_idea(idea: Idea) -> dict[str, Any]:
    """The idea as anyone may see it: never the author of an anonymous idea."""
    author = None if idea.anonymous else {"subject": idea.author_id, "name": idea.author_name}
    return {
        "id": str(idea.id),
        "title": idea.title,
        "team": idea.team,
        "tags": list(idea.tags),
        "status": idea.status,
        "status_reason": idea.status_reason,
        "anonymous": idea.anonymous,
        "author": author,
        "support_count": idea.support_count,
        "comment_count": idea.comment_count,
        "version": idea.version,
    }


async def record(
    session: AsyncSession,
    *,
    public_url: str,
    kind: str,
    idea: Idea,
    actor: Principal,
    at: datetime,
    from_status: str | None = None,
    comment_id: uuid.UUID | None = None,
) -> None:
    verb_iri, verb_display = VERBS[kind]
    extensions: dict[str, Any] = {EXT_TEAM: idea.team, EXT_TAGS: list(idea.tags)}
    if from_status is not None:
        extensions[EXT_FROM] = from_status
        extensions[EXT_TO] = idea.status
        if idea.submitted_at is not None:
            extensions[EXT_SUBMITTED_AT] = idea.submitted_at.isoformat()
        if idea.realized_impact:
            extensions[EXT_REALIZED_IMPACT] = {
                k: v for k, v in idea.realized_impact.items() if k != "notes" and v is not None
            }
    iri = idea_iri(public_url, idea.id)
    target = xapi.activity(iri, ACTIVITY_IDEA, idea.title)
    context: dict[str, Any] = {"platform": "Werkvloer", "extensions": extensions}
    if comment_id is not None:
        # The comment is the object; the idea it belongs to is its parent in the context.
        context["contextActivities"] = {"parent": [target]}
        target = xapi.activity(f"{iri}/comments/{comment_id}", ACTIVITY_COMMENT)
    statement = xapi.statement(
        actor=_actor(public_url, idea, actor),
        verb=xapi.verb(verb_iri, verb_display),
        object=target,
        timestamp=at,
        context=context,
    )
    enqueue(session, xapi.XAPI_TOPIC, uuid.UUID(statement["id"]), statement)
    await _queue_webhooks(session, kind, idea, actor, at, from_status, comment_id)


def _webhook_event(kind: str, from_status: str | None) -> str:
    if kind == "created":
        return "idea.created"
    if kind == "supported":
        return "idea.supported"
    if kind == "commented":
        return "idea.commented"
    return "idea.transitioned"


async def _queue_webhooks(
    session: AsyncSession,
    kind: str,
    idea: Idea,
    actor: Principal,
    at: datetime,
    from_status: str | None,
    comment_id: uuid.UUID | None,
) -> None:
    event = _webhook_event(kind, from_status)
    hooks = (await session.exec(select(Webhook).where(Webhook.active == True))).all()  # noqa: E712
    subscribed = [hook for hook in hooks if event in hook.events]
    if not subscribed:
        return
    shown_actor = (
        None if acts_anonymously(idea, actor) else {"subject": actor.subject, "name": actor.name}
    )
    payload: dict[str, Any] = {
        "event": event,
        "occurred_at": at.isoformat(),
        "actor": shown_actor,
        "idea": public_idea(idea),
    }
    if from_status is not None:
        payload["transition"] = {
            "from": from_status,
            "to": idea.status,
            "reason": idea.status_reason,
        }
    if comment_id is not None:
        payload["comment_id"] = str(comment_id)
    for hook in subscribed:
        session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload))
