"""A person's data in the ideas service: export it, and erase it.

Erasure: drafts are deleted (with everything attached to them); submitted ideas stay — they
belong to the team's improvement work now — but lose their author (anonymous, author erased);
comments are emptied and marked deleted (replies keep their place); supports and follows are
removed and the counts corrected; the person's moves in idea histories, webhooks they made,
webhook payloads and outbox messages that name them are scrubbed or deleted. Idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import utcnow
from kit.personal import ERASED, ERASED_NAME, forget_in_outbox, names, scrub
from services.ideas.outgoing_webhooks import public_idea
from services.ideas.repository.gdpr import PersonalDataRepository
from services.ideas.repository.ideas import IdeasRepository

# Where webhook payloads and outbox statements name a person: `subject` (payloads), `name`
# (an xAPI account), and the person columns of this service's tables.
PERSON_KEYS = ("subject", "name", "author_id", "actor_id", "person_id")
# What an erased author's ideas and comments keep of them. Idempotency keys are unique per
# author: erased authors share one id, so their keys must go.
ERASED_AUTHOR = {
    "author_id": ERASED,
    "author_name": ERASED_NAME,
    "idempotency_key": None,
    "idempotency_hash": None,
}


async def export(session: AsyncSession, subject: str) -> dict[str, Any]:
    """Everything held about `subject` (GDPR articles 15 and 20), as JSON: `ideas` they wrote
    (with text and impact), `comments`, the ideas they `supported` and are `following`, and
    their `workflow_moves`."""
    personal = PersonalDataRepository(session)
    ideas = await personal.ideas_by(subject)
    comments = await personal.comments_by(subject)
    supports = await personal.supports_of(subject)
    follows = await personal.follows_of(subject)
    moves = await personal.moves_by(subject)
    return {
        "ideas": [
            {
                **public_idea(i),
                "problem": i.problem,
                "proposal": i.proposal,
                "created_at": i.created_at.isoformat(),
                "expected_impact": i.expected_impact,
                "realized_impact": i.realized_impact,
            }
            for i in ideas
        ],
        "comments": [
            {
                "id": str(c.id),
                "idea_id": str(c.idea_id),
                "body": c.body,
                "at": c.created_at.isoformat(),
            }
            for c in comments
        ],
        "supported": [str(s.idea_id) for s in supports],
        "following": [str(f.idea_id) for f in follows],
        "workflow_moves": [
            {
                "idea_id": str(m.idea_id),
                "from": m.from_status,
                "to": m.to_status,
                "reason": m.reason,
                "at": m.at.isoformat(),
            }
            for m in moves
        ],
    }


async def erase(session: AsyncSession, subject: str) -> dict[str, int]:
    """Erase `subject` here (GDPR article 17; what happens to each kind: the module docstring)
    in the caller's transaction. Returns how many drafts, ideas, comments, supports, follows
    and outbox messages were deleted or anonymised; a repeat finds nothing left and counts 0."""
    personal = PersonalDataRepository(session)
    ideas = IdeasRepository(session)
    drafts = await personal.draft_ids(subject)
    await ideas.delete_ideas(drafts)
    anonymised = await personal.rewrite_ideas_by(subject, {**ERASED_AUTHOR, "anonymous": True})
    # One by one through the repository, so each idea's counter drops with its row.
    supports = await personal.supports_of(subject)
    for support in supports:
        await ideas.remove_support(support.idea_id, subject)
    follows = await personal.follows_of(subject)
    for follow in follows:
        await ideas.remove_follow(follow.idea_id, subject)
    comments = await personal.empty_comments_by(subject, ERASED_AUTHOR, utcnow())
    await personal.rename_actor(subject, ERASED, ERASED_NAME)
    await personal.rename_webhook_creator(subject, ERASED)
    for delivery in await personal.deliveries_mentioning(subject):
        if names(delivery.payload, subject, PERSON_KEYS):
            delivery.payload = scrub(delivery.payload, subject, PERSON_KEYS)
    outbox = await forget_in_outbox(session, subject, PERSON_KEYS)
    await session.flush()
    return {
        "drafts_deleted": len(drafts),
        "ideas_anonymised": anonymised,
        "comments_erased": comments,
        "supports_removed": len(supports),
        "follows_removed": len(follows),
        "outbox_messages_deleted": outbox,
    }
