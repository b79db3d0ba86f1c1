"""Delivers the outbox to its receiver: batches, at least once, back-off with jitter, and a
dead-letter state for messages that can never be delivered.

Several replicas may relay the same outbox: a batch is leased before it is sent (kit/worker.py).
The receiver (the learning record store) is idempotent on the message id, so a batch sent twice
after a crash is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from kit.db import Database
from kit.outbox import OutboxMessage
from kit.worker import LeasedQueue, Outcome, QueueColumns, run_forever

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
RETRYABLE = frozenset({408, 425, 429})
COLUMNS = QueueColumns(done_at="delivered_at", dead_at="dead_at")


def _outcome(status: int | None) -> Outcome:
    """A receiver's answer: 2xx done; no answer, 5xx, 408, 425 or 429 worth a retry; any other
    refusal final (the receiver will never take that message)."""
    if status is not None and 200 <= status < 300:
        return Outcome.done
    if status is None or status >= 500 or status in RETRYABLE:
        return Outcome.retry
    return Outcome.dead


class OutboxRelay:
    """Sends the outbox to `url` in batches of `batch_size` (see the module docstring); a
    message is dead-lettered after `max_attempts` failed tries or a final refusal."""

    def __init__(
        self,
        database: Database,
        http: httpx.AsyncClient,
        *,
        url: str,
        headers: Callable[[], dict[str, str]],
        batch_size: int = 50,
        max_attempts: int = 10,
        poll_seconds: float = 1.0,
        timeout_seconds: float = 10.0,
        lease_seconds: float = LEASE.total_seconds(),
    ) -> None:
        self.http, self.url, self.headers = http, url, headers
        self.poll_seconds, self.timeout_seconds = poll_seconds, timeout_seconds
        # A batch whose outcome was not recorded (a crash, the database gone between sending
        # and recording) is sent again when its lease runs out.
        self.queue = LeasedQueue(
            database,
            OutboxMessage,
            COLUMNS,
            name="outbox message",
            batch_size=batch_size,
            max_attempts=max_attempts,
            lease_seconds=lease_seconds,
        )

    async def _post(self, payload: Any) -> int | None:
        try:
            response = await self.http.post(
                self.url, json=payload, headers=self.headers(), timeout=self.timeout_seconds
            )
        except httpx.HTTPError as exc:
            log.info("outbox receiver unreachable", extra={"reason": type(exc).__name__})
            return None
        return response.status_code

    async def run_once(self) -> int:
        """Send one batch; returns how many messages were delivered (0 when none were due).

        A batch the receiver refuses as a whole is sent again one message at a time, to find
        the message(s) it will never take; only those are dead-lettered."""
        batch = await self.queue.claim()
        if not batch:
            return 0
        status = await self._post([m.payload for m in batch])
        outcome = _outcome(status)
        if outcome is not Outcome.dead:
            reason = "unreachable" if status is None else f"HTTP {status}"
            error = None if outcome is Outcome.done else reason
            await self.queue.settle({m.id: (outcome, error) for m in batch})
            return len(batch) if outcome is Outcome.done else 0
        outcomes: dict[Any, tuple[Outcome, str | None]] = {}
        for message in batch:
            single = await self._post([message.payload])
            one = _outcome(single)
            error = {
                Outcome.done: None,
                Outcome.retry: f"HTTP {single}",
                Outcome.dead: f"refused with HTTP {single}",
            }[one]
            outcomes[message.id] = (one, error)
        await self.queue.settle(outcomes)
        return sum(1 for outcome, _ in outcomes.values() if outcome is Outcome.done)

    async def run_forever(self) -> None:
        """Relay until cancelled; sleeps `poll_seconds` when nothing was due (kit/worker.py)."""
        await run_forever(self.run_once, name="outbox relay", poll_seconds=self.poll_seconds)

    async def status(self) -> dict[str, int]:
        """For /readyz details: `{"pending", "dead_letters"}` message counts."""
        return await self.queue.counts()
