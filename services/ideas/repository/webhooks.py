"""Queries about webhooks and their deliveries. Flushes; the caller's session commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ideas.models import Webhook, WebhookDelivery


class WebhooksRepository:
    """Registered webhooks and the deliveries queued for them, in one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_webhook(self, hook: Webhook) -> None:
        """Insert a webhook."""
        self.session.add(hook)
        await self.session.flush()

    async def webhooks(self) -> Sequence[Webhook]:
        """Every webhook, active or not, oldest first."""
        return (await self.session.exec(select(Webhook).order_by(col(Webhook.created_at)))).all()

    async def webhook(self, hook_id: uuid.UUID) -> Webhook | None:
        """The webhook, or None."""
        return await self.session.get(Webhook, hook_id)

    async def delivery(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        """The delivery, or None."""
        return await self.session.get(WebhookDelivery, delivery_id)

    async def cancel_delivery(self, delivery_id: uuid.UUID) -> None:
        """Mark the delivery `cancelled`: it will never be sent (its webhook is inactive)."""
        await self.session.exec(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == delivery_id)
            .values(status="cancelled")
        )

    async def deliveries(self, hook_id: uuid.UUID, limit: int) -> Sequence[WebhookDelivery]:
        """The webhook's latest `limit` deliveries, newest first."""
        statement = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook_id)
            .order_by(col(WebhookDelivery.created_at).desc())
            .limit(limit)
        )
        return (await self.session.exec(statement)).all()

    async def subscribed(self, event: str) -> list[Webhook]:
        """The active webhooks subscribed to `event`."""
        hooks = (await self.session.exec(select(Webhook).where(col(Webhook.active)))).all()
        return [hook for hook in hooks if event in hook.events]

    def queue(self, hooks: list[Webhook], event: str, payload: dict[str, Any]) -> None:
        """Queue one delivery of `payload` for each of `hooks` (written with the session)."""
        for hook in hooks:
            self.session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload))
