"""Forwarding to an external LRS: every new statement is written to this service's outbox in
the transaction that stores it (service.store), and kit's relay — a leased queue over the
outbox (kit/worker.py) — delivers it in batches, with back-off, dead letters and several
replicas, to `ANALYTICS_FORWARD_URL/statements`. The other LRS is expected to be idempotent on
statement id, as the xAPI specification requires.

The relay posts with the app's own HTTP client and its own time limit per batch, not with
kit/service_client.py: the other LRS is outside the platform (no bearer token or request id of
ours to forward), and the leased queue already retries each message with back-off, so a second
layer of retries and a breaker would only multiply the tries.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from kit.relay import OutboxRelay
from kit.relay_app import credential_headers
from services.analytics.settings import AnalyticsSettings
from services.analytics.statements.service import VERSION


def forward_headers(settings: AnalyticsSettings) -> Callable[[], dict[str, str]]:
    """A function giving the headers of each forwarding request: HTTP Basic with the forward
    key and secret, else the forward bearer token, with the xAPI version; the version alone
    when no credentials are set."""
    configured = credential_headers(
        settings.forward_key, settings.forward_secret, settings.forward_token
    ) or {"X-Experience-API-Version": VERSION}
    return lambda: dict(configured)


def forwarder(app: FastAPI) -> OutboxRelay | None:
    """The forwarder of this app, or None when `ANALYTICS_FORWARD_URL` is not set; kept on
    `app.state.forwarder`, its counts in /readyz under `forwarding`."""
    settings: AnalyticsSettings = app.state.settings
    app.state.forwarder = None
    if not settings.forward_url:
        return None
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
    return relay
