"""The xAPI statements the ideas service emits (through the outbox, to analytics): one per
capture, workflow move, support and comment, with the verbs of docs/xapi-profile.md.

Anonymity is enforced here: when the anonymous author acts, no statement names them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kit import xapi
from kit.auth import Principal
from services.ideas.models import Idea

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
    """Whether `actor` is the anonymous author of `idea` (then nothing may name them)."""
    return idea.anonymous and actor.subject == idea.author_id


def idea_iri(public_url: str, idea_id: uuid.UUID) -> str:
    """The idea's activity IRI: `<public url>/ideas/<id>`."""
    return f"{public_url.rstrip('/')}/ideas/{idea_id}"


def _actor(public_url: str, idea: Idea, actor: Principal) -> dict[str, Any]:
    home = public_url.rstrip("/")
    if acts_anonymously(idea, actor):
        return xapi.anonymous_agent(home)
    return xapi.agent(home, actor.subject, actor.name)


@dataclass(frozen=True)
class IdeaEvent:
    """What a person did to an idea, as the outside world learns it: `kind` (`created`,
    `supported`, `commented`, or the status the idea moved to) by `actor` at `at`; a workflow
    move names `from_status`, a comment its `comment_id`."""

    kind: str
    idea: Idea
    actor: Principal
    at: datetime
    from_status: str | None = None
    comment_id: uuid.UUID | None = None


def statement(public_url: str, event: IdeaEvent) -> dict[str, Any]:
    """The xAPI statement of `event` (a dict, with its `id`), verb from `VERBS`. The anonymous
    author acting on their own idea is the anonymous agent."""
    kind, idea, from_status, comment_id = (
        event.kind,
        event.idea,
        event.from_status,
        event.comment_id,
    )
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
    return xapi.statement(
        actor=_actor(public_url, idea, event.actor),
        verb=xapi.verb(verb_iri, verb_display),
        object=target,
        timestamp=event.at,
        context=context,
    )
