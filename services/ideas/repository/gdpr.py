"""Queries about one person's rows across the ideas service, for GDPR export and erasure
(services/ideas/gdpr.py holds what is exported and what erasure keeps). Flushes; the caller's
session commits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.personal import like_json
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


class PersonalDataRepository:
    """The rows that name one person (`subject`, the token's subject), in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ideas_by(self, subject: str) -> Sequence[Idea]:
        """Every idea `subject` wrote, drafts included."""
        return (await self.session.exec(select(Idea).where(Idea.author_id == subject))).all()

    async def draft_ids(self, subject: str) -> list[uuid.UUID]:
        """The ids of `subject`'s drafts."""
        statement = select(Idea.id).where(
            Idea.author_id == subject, Idea.status == Status.draft.value
        )
        return list((await self.session.exec(statement)).all())

    async def comments_by(self, subject: str) -> Sequence[Comment]:
        """Every comment `subject` wrote, deleted ones included."""
        statement = select(Comment).where(Comment.author_id == subject)
        return (await self.session.exec(statement)).all()

    async def supports_of(self, subject: str) -> Sequence[Support]:
        """The supports `subject` gave."""
        statement = select(Support).where(Support.person_id == subject)
        return (await self.session.exec(statement)).all()

    async def follows_of(self, subject: str) -> Sequence[Follow]:
        """The ideas `subject` follows, as Follow rows."""
        return (await self.session.exec(select(Follow).where(Follow.person_id == subject))).all()

    async def moves_by(self, subject: str) -> Sequence[IdeaTransition]:
        """The workflow moves `subject` made, in any idea's history."""
        statement = select(IdeaTransition).where(IdeaTransition.actor_id == subject)
        return (await self.session.exec(statement)).all()

    async def rewrite_ideas_by(self, subject: str, values: Mapping[str, Any]) -> int:
        """Set `values` on every idea `subject` wrote; returns how many ideas that was."""
        result = await self.session.exec(
            update(Idea).where(col(Idea.author_id) == subject).values(**values)
        )
        return int(result.rowcount)

    async def empty_comments_by(self, subject: str, values: Mapping[str, Any], at: datetime) -> int:
        """Empty every comment `subject` wrote, mark it deleted at `at` (a new version) and set
        `values` on it; comments not deleted before stop counting on their idea. Returns how
        many comments that was, deleted ones included."""
        comments = await self.comments_by(subject)
        for comment in comments:
            if comment.deleted_at is None:
                await count_comments(self.session, comment.idea_id, -1)
        await self.session.exec(
            update(Comment)
            .where(col(Comment.author_id) == subject)
            .values(**values, body=None, deleted_at=at, version=col(Comment.version) + 1)
        )
        return len(comments)

    async def rename_actor(self, subject: str, actor_id: str, actor_name: str) -> None:
        """Show `actor_id` and `actor_name` instead of `subject` in every idea's history."""
        await self.session.exec(
            update(IdeaTransition)
            .where(col(IdeaTransition.actor_id) == subject)
            .values(actor_id=actor_id, actor_name=actor_name)
        )

    async def rename_webhook_creator(self, subject: str, creator: str) -> None:
        """Record `creator` instead of `subject` as the maker of their webhooks."""
        await self.session.exec(
            update(Webhook).where(col(Webhook.created_by) == subject).values(created_by=creator)
        )

    async def deliveries_mentioning(self, subject: str) -> Sequence[WebhookDelivery]:
        """Webhook deliveries whose payload contains `subject` anywhere as text: a superset of
        those that name them (`kit.personal.names` decides)."""
        statement = select(WebhookDelivery).where(like_json(col(WebhookDelivery.payload), subject))
        return (await self.session.exec(statement)).all()
