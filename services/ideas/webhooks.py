"""Webhooks: admins register URLs; idea events are delivered signed, retried, and recorded.

Targets are checked against server-side request forgery twice, when registered and before every
delivery (DNS can change in between): a name that resolves to a loopback, private, link-local,
multicast or reserved address is refused unless `IDEAS_WEBHOOKS_ALLOW_PRIVATE_TARGETS` is set.
Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from sqlmodel import col, select

from kit.db import Database, utcnow
from kit.errors import Unprocessable
from kit.worker import backoff
from services.ideas.models import Webhook, WebhookDelivery
from services.ideas.settings import IdeasSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Werkvloer-Signature"
BATCH = 20
LEASE = timedelta(seconds=60)


class TargetRefused(Unprocessable):
    code = "webhook_target_forbidden"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the receiver recomputes it and
    rejects old timestamps, which stops replays."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _forbidden_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def check_target(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("a webhook URL must be an absolute http or https URL")
    if parts.username or parts.password:
        raise TargetRefused("a webhook URL may not carry credentials")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("the webhook URL has an invalid port") from exc
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise TargetRefused(f"the host {parts.hostname!r} does not resolve") from exc
    for info in infos:
        if _forbidden_address(str(info[4][0])):
            raise TargetRefused(
                "the webhook URL points to a loopback, private or link-local address",
                details={"host": parts.hostname},
            )


class WebhookDispatcher:
    """Sends due deliveries. Several replicas may run it: a delivery is leased before it is
    sent, so only one of them sends it (at least once, never knowingly twice)."""

    def __init__(
        self, database: Database, http: httpx.AsyncClient, settings: IdeasSettings
    ) -> None:
        self.database = database
        self.http = http
        self.settings = settings

    async def run_once(self) -> int:
        async with self.database.sessions() as session:
            now = utcnow()
            due = (
                await session.exec(
                    select(WebhookDelivery)
                    .where(
                        WebhookDelivery.status == "pending",
                        col(WebhookDelivery.next_attempt_at) <= now,
                    )
                    .order_by(col(WebhookDelivery.next_attempt_at))
                    .limit(BATCH)
                )
            ).all()
            leased = []
            for delivery in due:
                claimed = await session.exec(
                    update(WebhookDelivery)
                    .where(
                        col(WebhookDelivery.id) == delivery.id,
                        col(WebhookDelivery.next_attempt_at) == delivery.next_attempt_at,
                    )
                    .values(next_attempt_at=now + LEASE)
                )
                if claimed.rowcount:
                    leased.append(delivery.id)
            await session.commit()
        for delivery_id in leased:
            await self._deliver(delivery_id)
        return len(leased)

    async def _deliver(self, delivery_id: object) -> None:
        async with self.database.sessions() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            hook = await session.get(Webhook, delivery.webhook_id)
            status_code: int | None = None
            error: str | None = None
            if hook is None or not hook.active:
                delivery.status = "cancelled"
                await session.commit()
                return
            body = json.dumps(delivery.payload, separators=(",", ":")).encode()
            timestamp = int(time.time())
            try:
                await check_target(hook.url, self.settings.webhooks_allow_private_targets)
                response = await self.http.post(
                    hook.url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
                        "Werkvloer-Event": delivery.event,
                        "Werkvloer-Delivery": str(delivery.id),
                    },
                    timeout=self.settings.webhook_timeout_seconds,
                    follow_redirects=False,
                )
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except TargetRefused as exc:
                error = exc.message
            except httpx.HTTPError as exc:
                error = type(exc).__name__
            delivery.attempts += 1
            delivery.last_status_code = status_code
            delivery.last_error = error
            if error is None:
                delivery.status = "delivered"
                delivery.delivered_at = utcnow()
            elif delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "failed"
                log.warning(
                    "webhook delivery failed for good", extra={"delivery": str(delivery.id)}
                )
            else:
                delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
            await session.commit()

    async def run_forever(self) -> None:
        while True:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("webhook dispatcher round failed")
                sent = 0
            if not sent:
                await asyncio.sleep(self.settings.webhook_poll_seconds)


@asynccontextmanager
async def dispatcher_running(app: FastAPI) -> AsyncIterator[None]:
    dispatcher = WebhookDispatcher(app.state.database, app.state.http, app.state.settings)
    app.state.webhook_dispatcher = dispatcher
    task = asyncio.create_task(dispatcher.run_forever(), name="webhook-dispatcher")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
