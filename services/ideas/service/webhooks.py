"""Webhook administration: admins register, list and deactivate webhooks and read deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.errors import NotFound
from services.ideas.models import Webhook, WebhookCreate, WebhookDelivery
from services.ideas.outgoing_webhooks import check_target, new_secret
from services.ideas.repository.webhooks import WebhooksRepository


class WebhookNotFound(NotFound):
    """404 `webhook_not_found`."""

    code = "webhook_not_found"


class WebhooksService:
    """Webhook rules for one admin's request (the routes require the admin role)."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.repo = WebhooksRepository(session)
        self.me = principal

    async def register(self, data: WebhookCreate, allow_private: bool) -> tuple[Webhook, str]:
        """A new active webhook and its signing secret (shown to the admin once). Raises
        TargetRefused (422 `webhook_target_forbidden`) for a URL it may not call
        (outgoing_webhooks.py)."""
        await check_target(data.url, allow_private)
        secret = new_secret()
        hook = Webhook(
            url=data.url,
            secret=secret,
            events=sorted(set(data.events)),
            created_by=self.me.subject,
        )
        await self.repo.add_webhook(hook)
        return hook, secret

    async def all(self) -> Sequence[Webhook]:
        """Every webhook, active or not, oldest first."""
        return await self.repo.webhooks()

    async def get(self, hook_id: uuid.UUID) -> Webhook:
        """The webhook; raises WebhookNotFound (404 `webhook_not_found`)."""
        hook = await self.repo.webhook(hook_id)
        if hook is None:
            raise WebhookNotFound("no such webhook")
        return hook

    async def deactivate(self, hook_id: uuid.UUID) -> None:
        """Stop deliveries to the webhook (queued ones are cancelled when their turn comes);
        raises WebhookNotFound (404)."""
        (await self.get(hook_id)).active = False

    async def deliveries(self, hook_id: uuid.UUID, limit: int) -> Sequence[WebhookDelivery]:
        """The webhook's latest `limit` deliveries, newest first; raises WebhookNotFound (404)."""
        await self.get(hook_id)
        return await self.repo.deliveries(hook_id, limit)
