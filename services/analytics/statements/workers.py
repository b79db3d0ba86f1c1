"""Forwarding to an external LRS: every new statement is written to this service's outbox in
the transaction that stores it, and the kit's relay delivers it (batches, back-off, dead
letters, several replicas) to `ANALYTICS_FORWARD_URL/statements`. The other LRS is expected to
be idempotent on statement id, as the xAPI specification requires."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from kit.relay import OutboxRelay
from kit.relay_app import credential_headers
from services.analytics.settings import AnalyticsSettings
from services.analytics.statements.service import VERSION

log = logging.getLogger(__name__)


def forward_headers(settings: AnalyticsSettings) -> Callable[[], dict[str, str]]:
    configured = credential_headers(
        settings.forward_key, settings.forward_secret, settings.forward_token
    ) or {"X-Experience-API-Version": VERSION}
    return lambda: dict(configured)


@asynccontextmanager
async def forwarder_running(app: FastAPI) -> AsyncIterator[None]:
    settings: AnalyticsSettings = app.state.settings
    app.state.forwarder = None
    task = None
    if settings.forward_url:
        relay = OutboxRelay(
            app.state.database,
            app.state.http,
            url=f"{settings.forward_url.rstrip('/')}/statements",
            headers=forward_headers(settings),
            batch_size=settings.forward_batch_size,
            max_attempts=settings.forward_max_attempts,
            poll_seconds=settings.forward_poll_seconds,
        )
        app.state.forwarder = relay
        app.state.readiness_checks["forwarding"] = relay.status
        if settings.forward_enabled:
            task = asyncio.create_task(relay.run_forever(), name="lrs-forwarder")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
