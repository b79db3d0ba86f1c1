"""REST routes of webhook administration (admins only): HTTP in, HTTP out
(service/webhooks.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import SessionDep
from services.ideas.models import DeliveryPublic, Webhook, WebhookCreate, WebhookPublic
from services.ideas.service.webhooks import WebhooksService

router = APIRouter(
    prefix="/v1/webhooks", tags=["webhooks"], dependencies=[require_roles(Role.admin)]
)


async def _webhooks(session: SessionDep, principal: PrincipalDep) -> WebhooksService:
    return WebhooksService(session, principal)


WebhooksDep = Annotated[WebhooksService, Depends(_webhooks)]


def _hook(hook: Webhook, secret: str | None = None) -> WebhookPublic:
    return WebhookPublic(
        id=hook.id,
        url=hook.url,
        events=list(hook.events),
        active=hook.active,
        created_at=hook.created_at,
        secret=secret,
    )


@router.post("", status_code=201, response_model=WebhookPublic, summary="Register a webhook")
async def create_webhook(
    body: WebhookCreate, webhooks: WebhooksDep, request: Request
) -> WebhookPublic:
    """201 and the webhook with its signing secret (shown this once). 422
    `webhook_target_forbidden` for a URL the service may not call."""
    allow_private = request.app.state.settings.webhooks_allow_private_targets
    hook, secret = await webhooks.register(body, allow_private)
    return _hook(hook, secret)


@router.get("", response_model=list[WebhookPublic], summary="Registered webhooks")
async def list_webhooks(webhooks: WebhooksDep) -> list[WebhookPublic]:
    """Every webhook, oldest first, without secrets."""
    return [_hook(h) for h in await webhooks.all()]


@router.delete("/{hook_id}", status_code=204, summary="Deactivate a webhook")
async def delete_webhook(hook_id: uuid.UUID, webhooks: WebhooksDep) -> Response:
    """204; 404 `webhook_not_found`."""
    await webhooks.deactivate(hook_id)
    return Response(status_code=204)


@router.get(
    "/{hook_id}/deliveries", response_model=list[DeliveryPublic], summary="Recent deliveries"
)
async def list_deliveries(
    hook_id: uuid.UUID, webhooks: WebhooksDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[DeliveryPublic]:
    """The latest `limit` deliveries, newest first; 404 `webhook_not_found`."""
    rows = await webhooks.deliveries(hook_id, limit)
    return [DeliveryPublic.model_validate(row, from_attributes=True) for row in rows]
