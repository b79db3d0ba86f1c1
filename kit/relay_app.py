"""Runs the outbox relay inside a service's process: xAPI statements go to the learning record
store (LRS) the service's settings name (`relay_url()`).

Credentials: an LRS client key and secret (HTTP Basic, as the xAPI standard allows), else a
bearer token; in development, when neither is set, a short-lived development token with the
roles the service passes in is minted.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kit.auth import dev_secret, issue_dev_token
from kit.relay import OutboxRelay
from kit.settings import OutboxRelaySettings
from kit.worker import workers_running

log = logging.getLogger(__name__)
XAPI_VERSION = "1.0.3"


def credential_headers(
    key: str | None, secret: str | None, token: str | None
) -> dict[str, str] | None:
    """xAPI request headers for an LRS: HTTP Basic with a client key and secret, else a
    bearer token; None when neither is configured."""
    if key and secret:
        pair = base64.b64encode(f"{key}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}", "X-Experience-API-Version": XAPI_VERSION}
    if token:
        return {"Authorization": f"Bearer {token}", "X-Experience-API-Version": XAPI_VERSION}
    return None


def relay_headers(
    settings: OutboxRelaySettings, service: str, dev_roles: Sequence[str]
) -> Callable[[], dict[str, str]] | None:
    """A function returning the relay's request headers: the configured credentials; in
    development, without them, a bearer token minted for `service:<service>` with `dev_roles`
    (renewed 10 minutes before its hour runs out); None in production without credentials."""
    configured = credential_headers(settings.lrs_key, settings.lrs_secret, settings.lrs_token)
    if configured is not None:
        return lambda: dict(configured)
    if settings.platform.is_production:
        return None
    cached: dict[str, float | str] = {"token": "", "until": 0.0}

    def development() -> dict[str, str]:
        if float(cached["until"]) - time.time() < 600:
            secret = dev_secret(settings.platform.var_dir)
            cached["token"] = issue_dev_token(
                secret,
                subject=f"service:{service}",
                roles=list(dev_roles),
                teams=[],
                ttl_seconds=3600,
            )
            cached["until"] = time.time() + 3600
        return {
            "Authorization": f"Bearer {cached['token']}",
            "X-Experience-API-Version": XAPI_VERSION,
        }

    return development


def make_relay(app: FastAPI, service: str, dev_roles: Sequence[str] = ()) -> OutboxRelay | None:
    """The relay of `app`'s outbox to `settings.relay_url()` with the batch, attempt, poll and
    lease settings; None (and a warning) in production when no credentials are configured."""
    settings: OutboxRelaySettings = app.state.settings
    headers = relay_headers(settings, service, dev_roles)
    if headers is None:
        log.warning("no relay credentials in production: statements wait in the outbox")
        return None
    return OutboxRelay(
        app.state.database,
        app.state.http,
        url=settings.relay_url(),
        headers=headers,
        batch_size=settings.relay_batch_size,
        max_attempts=settings.relay_max_attempts,
        poll_seconds=settings.relay_poll_seconds,
        lease_seconds=settings.relay_lease_seconds,
    )


@asynccontextmanager
async def relay_running(
    app: FastAPI, service: str, dev_roles: Sequence[str] = ()
) -> AsyncIterator[None]:
    """For a lifespan: `app.state.relay` (None without credentials in production), its counts
    in /readyz under `outbox`, and the relay running while the app runs if `relay_enabled`.
    `dev_roles`: the roles the receiver requires, for development tokens (see relay_headers)."""
    relay = make_relay(app, service, dev_roles)
    app.state.relay = relay
    run = None
    if relay is not None:
        app.state.readiness_checks["outbox"] = relay.status
        if app.state.settings.relay_enabled:
            run = relay.run_forever
    async with workers_running({"outbox-relay": run}):
        yield
