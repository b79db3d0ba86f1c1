"""A person's data in the ideas service: export it, and erase it.

Erasure: drafts are deleted (with everything attached to them); submitted ideas stay — they
belong to the team's improvement work now — but lose their author (anonymous, author erased);
comments are emptied and marked deleted (replies keep their place); supports and follows are
removed and the counts corrected; the person's moves in idea histories, webhooks they made,
webhook payloads and outbox messages that name them are scrubbed or deleted. Idempotent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import utcnow
from kit.personal import ERASED, ERASED_NAME, forget_in_outbox, like_json, names, scrub
from services.ideas.fields import Status
from services.ideas.models import (
    Comment,
    Follow,
    Idea,
    IdeaTransition,
    Support,
    Webhook,
    WebhookDelivery,
)
from services.ideas.repository.discussion import count_comments
from services.ideas.repository.ideas import IdeasRepository
from services.ideas.webhooks import public_idea

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
    ideas = (await session.exec(select(Idea).where(Idea.author_id == subject))).all()
    comments = (await session.exec(select(Comment).where(Comment.author_id == subject))).all()
    supports = (await session.exec(select(Support).where(Support.person_id == subject))).all()
    follows = (await session.exec(select(Follow).where(Follow.person_id == subject))).all()
    moves = (
        await session.exec(select(IdeaTransition).where(IdeaTransition.actor_id == subject))
    ).all()
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


async def _unmark(session: AsyncSession, table: Any, counter: Any, subject: str) -> int:
    rows = (await session.exec(select(table).where(table.person_id == subject))).all()
    for row in rows:
        await session.exec(
            update(Idea).where(col(Idea.id) == row.idea_id).values({counter: counter - 1})
        )
    await session.exec(delete(table).where(table.person_id == subject))
    return len(rows)


async def erase(session: AsyncSession, subject: str) -> dict[str, int]:
    """Erase `subject` here (GDPR article 17; what happens to each kind: the module docstring)
    in the caller's transaction. Returns how many drafts, ideas, comments, supports, follows
    and outbox messages were deleted or anonymised; a repeat finds nothing left and counts 0."""
    drafts = (
        await session.exec(
            select(Idea.id).where(Idea.author_id == subject, Idea.status == Status.draft.value)
        )
    ).all()
    await IdeasRepository(session).delete_ideas(list(drafts))
    anonymised = await session.exec(
        update(Idea).where(col(Idea.author_id) == subject).values(**ERASED_AUTHOR, anonymous=True)
    )
    supports = await _unmark(session, Support, Idea.support_count, subject)
    follows = await _unmark(session, Follow, Idea.follower_count, subject)
    comments = (await session.exec(select(Comment).where(Comment.author_id == subject))).all()
    for comment in comments:
        if comment.deleted_at is None:
            await count_comments(session, comment.idea_id, -1)
    await session.exec(
        update(Comment)
        .where(col(Comment.author_id) == subject)
        .values(**ERASED_AUTHOR, body=None, deleted_at=utcnow(), version=col(Comment.version) + 1)
    )
    await session.exec(
        update(IdeaTransition)
        .where(col(IdeaTransition.actor_id) == subject)
        .values(actor_id=ERASED, actor_name=ERASED_NAME)
    )
    await session.exec(
        update(Webhook).where(col(Webhook.created_by) == subject).values(created_by=ERASED)
    )
    deliveries = (
        await session.exec(
            select(WebhookDelivery).where(like_json(col(WebhookDelivery.payload), subject))
        )
    ).all()
    for delivery in deliveries:
        if names(delivery.payload, subject, PERSON_KEYS):
            delivery.payload = scrub(delivery.payload, subject, PERSON_KEYS)
            session.add(delivery)
    outbox = await forget_in_outbox(session, subject, PERSON_KEYS)
    await session.flush()
    return {
        "drafts_deleted": len(drafts),
        "ideas_anonymised": anonymised.rowcount,
        "comments_erased": len(comments),
        "supports_removed": supports,
        "follows_removed": follows,
        "outbox_messages_deleted": outbox,
    }
