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
from services.ideas.events import public_idea
from services.ideas.models import (
    Comment,
    Follow,
    Idea,
    IdeaTransition,
    Support,
    Webhook,
    WebhookDelivery,
)
from services.ideas.workflow import Status

# Where webhook payloads and outbox statements name a person: `subject` (payloads), `name`
# (an xAPI account), and the person columns of this service's tables.
PERSON_KEYS = ("subject", "name", "author_id", "actor_id", "person_id")


async def export(session: AsyncSession, subject: str) -> dict[str, Any]:
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


async def _delete_ideas(session: AsyncSession, ids: list[Any]) -> None:
    for table, column in (
        (IdeaTransition, IdeaTransition.idea_id),
        (Support, Support.idea_id),
        (Follow, Follow.idea_id),
    ):
        await session.exec(delete(table).where(col(column).in_(ids)))
    # Replies first: a comment's parent must outlive it.
    await session.exec(
        delete(Comment).where(col(Comment.idea_id).in_(ids), col(Comment.parent_id).is_not(None))
    )
    await session.exec(delete(Comment).where(col(Comment.idea_id).in_(ids)))
    await session.exec(delete(Idea).where(col(Idea.id).in_(ids)))


async def _unmark(session: AsyncSession, table: Any, counter: Any, subject: str) -> int:
    rows = (await session.exec(select(table).where(table.person_id == subject))).all()
    for row in rows:
        await session.exec(
            update(Idea).where(col(Idea.id) == row.idea_id).values({counter: counter - 1})
        )
    await session.exec(delete(table).where(table.person_id == subject))
    return len(rows)


async def erase(session: AsyncSession, subject: str) -> dict[str, int]:
    drafts = (
        await session.exec(
            select(Idea.id).where(Idea.author_id == subject, Idea.status == Status.draft.value)
        )
    ).all()
    await _delete_ideas(session, list(drafts))
    anonymised = await session.exec(
        update(Idea)
        .where(col(Idea.author_id) == subject)
        # Keys are unique per author: erased authors share one id, so their keys must go.
        .values(
            author_id=ERASED,
            author_name=ERASED_NAME,
            anonymous=True,
            idempotency_key=None,
            idempotency_hash=None,
        )
    )
    supports = await _unmark(session, Support, Idea.support_count, subject)
    follows = await _unmark(session, Follow, Idea.follower_count, subject)
    comments = (await session.exec(select(Comment).where(Comment.author_id == subject))).all()
    for comment in comments:
        if comment.deleted_at is None:
            await session.exec(
                update(Idea)
                .where(col(Idea.id) == comment.idea_id)
                .values(comment_count=col(Idea.comment_count) - 1)
            )
    await session.exec(
        update(Comment)
        .where(col(Comment.author_id) == subject)
        .values(
            author_id=ERASED,
            author_name=ERASED_NAME,
            body=None,
            deleted_at=utcnow(),
            version=col(Comment.version) + 1,
            idempotency_key=None,
            idempotency_hash=None,
        )
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
