"""Background work of the ideas service: the webhook dispatcher, on kit's lease-based worker.

Several replicas may run it: a delivery is leased before it is sent (kit/worker.py), so only one
of them sends it — at least once, never knowingly twice. A failed try waits an exponential,
jittered back-off; after `IDEAS_WEBHOOK_MAX_ATTEMPTS` tries the delivery is `failed` for good.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx

from kit.db import Database, unit_of_work
from kit.worker import LeasedQueue, Outcome, QueueColumns, run_forever
from services.ideas.models import Webhook, WebhookDelivery
from services.ideas.outgoing_webhooks import SIGNATURE_HEADER, TargetRefused, check_target, sign
from services.ideas.repository.webhooks import WebhooksRepository
from services.ideas.settings import IdeasSettings

BATCH = 20
LEASE_SECONDS = 60.0
# A delivery is `pending` until `delivered` or `failed` (the dead letter); `cancelled` when its
# webhook was deactivated before it went out.
COLUMNS = QueueColumns(
    order_by="next_attempt_at",
    status="status",
    done_status="delivered",
    dead_status="failed",
    done_at="delivered_at",
)


class WebhookDispatcher:
    """Sends due webhook deliveries, signed, and records each try on its delivery row."""

    def __init__(
        self, database: Database, http: httpx.AsyncClient, settings: IdeasSettings
    ) -> None:
        self.database = database
        self.http = http
        self.settings = settings
        # The attempt that succeeds counts too: an admin reads how many tries a delivery took.
        self.queue = LeasedQueue(
            database,
            WebhookDelivery,
            COLUMNS,
            name="webhook delivery",
            batch_size=BATCH,
            max_attempts=settings.webhook_max_attempts,
            lease_seconds=LEASE_SECONDS,
            count_done=True,
        )

    async def run_once(self) -> int:
        """Lease up to `BATCH` due deliveries and send each; returns how many were leased."""
        leased = await self.queue.claim()
        for delivery in leased:
            await self._deliver(delivery.id)
        return len(leased)

    async def _deliver(self, delivery_id: uuid.UUID) -> None:
        # Three short steps, with no transaction open while DNS and the POST run (up to
        # IDEAS_WEBHOOK_TIMEOUT_SECONDS): on SQLite a write transaction holds the database's one
        # write lock, so every other write would wait on a slow receiver. The lease taken by
        # `claim` keeps other replicas off this delivery meanwhile.
        async with self.database.reading() as session:
            repository = WebhooksRepository(session)
            delivery = await repository.delivery(delivery_id)
            if delivery is None:
                return
            hook = await repository.webhook(delivery.webhook_id)
        if hook is None or not hook.active:
            async with unit_of_work(self.database) as session:
                await WebhooksRepository(session).cancel_delivery(delivery_id)
            return
        status_code, error = await self._send(hook, delivery)
        async with unit_of_work(self.database) as session:
            tried = await WebhooksRepository(session).delivery(delivery_id)
            if tried is None:
                return
            tried.last_status_code = status_code
            tried.last_error = error
            self.queue.settle_row(tried, Outcome.done if error is None else Outcome.retry, error)

    async def _send(
        self, hook: Webhook, delivery: WebhookDelivery
    ) -> tuple[int | None, str | None]:
        """One signed POST: `(status code or None, None when delivered else the reason)`. The
        target is checked again first: DNS may have changed since it was registered."""
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        try:
            await check_target(hook.url, self.settings.webhooks_allow_private_targets)
            response = await self.http.post(
                hook.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(hook.secret, int(time.time()), body),
                    "Werkvloer-Event": delivery.event,
                    "Werkvloer-Delivery": str(delivery.id),
                },
                timeout=self.settings.webhook_timeout_seconds,
                follow_redirects=False,
            )
        except TargetRefused as exc:
            return None, exc.message
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        ok = 200 <= response.status_code < 300
        return response.status_code, None if ok else f"HTTP {response.status_code}"

    async def run_forever(self) -> None:
        """Dispatch until cancelled; sleeps `IDEAS_WEBHOOK_POLL_SECONDS` when nothing was due."""
        await run_forever(
            self.run_once,
            name="webhook dispatcher",
            poll_seconds=self.settings.webhook_poll_seconds,
        )
