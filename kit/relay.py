"""Delivers the outbox to its receiver: batches, at least once, back-off with jitter, and a
dead-letter state for messages that can never be delivered.

Several replicas may relay the same outbox: a batch is leased before it is sent. The receiver
(the learning record store) is idempotent on the message id, so a batch sent twice after a
crash is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, update
from sqlmodel import col, select

from kit.db import Database, utcnow
from kit.outbox import OutboxMessage

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
RETRYABLE = frozenset({408, 425, 429})


def backoff(attempts: int, cap_seconds: float = 3600.0) -> timedelta:
    """Exponential with jitter: about 2 s, 4 s, 8 s ... never above the cap."""
    ceiling = min(cap_seconds, 2.0**attempts)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto


class OutboxRelay:
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
        self.database = database
        self.http = http
        self.url = url
        self.headers = headers
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        # A batch whose outcome was not recorded (a crash, the database gone between sending
        # and recording) is sent again when its lease runs out.
        self.lease = timedelta(seconds=lease_seconds)

    async def _lease(self) -> list[OutboxMessage]:
        """Claim a batch for LEASE. On PostgreSQL, rows another replica is claiming right now are
        skipped (`FOR UPDATE SKIP LOCKED`), so replicas take different batches without waiting;
        the conditional update below makes a claim exclusive on SQLite too."""
        async with self.database.sessions() as session:
            now = utcnow()
            query = (
                select(OutboxMessage)
                .where(
                    col(OutboxMessage.delivered_at).is_(None),
                    col(OutboxMessage.dead_at).is_(None),
                    col(OutboxMessage.next_attempt_at) <= now,
                )
                .order_by(col(OutboxMessage.created_at))
                .limit(self.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            due = (await session.exec(query)).all()
            leased = []
            for message in due:
                claimed = await session.exec(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == message.id,
                        col(OutboxMessage.next_attempt_at) == message.next_attempt_at,
                    )
                    .values(next_attempt_at=now + self.lease)
                )
                if claimed.rowcount:
                    leased.append(message)
            await session.commit()
            return leased

    async def _post(self, payload: Any) -> int | None:
        try:
            response = await self.http.post(
                self.url, json=payload, headers=self.headers(), timeout=self.timeout_seconds
            )
        except httpx.HTTPError as exc:
            log.info("outbox receiver unreachable", extra={"reason": type(exc).__name__})
            return None
        return response.status_code

    async def _settle(self, outcomes: dict[Any, tuple[str, str | None]]) -> None:
        """outcome per message id: delivered, dead (with reason) or retry (with reason)."""
        async with self.database.sessions() as session:
            now = utcnow()
            for message_id, (outcome, reason) in outcomes.items():
                message = await session.get(OutboxMessage, message_id)
                if message is None:
                    continue
                if outcome == "delivered":
                    message.delivered_at = now
                    continue
                message.attempts += 1
                message.last_error = reason
                if outcome == "dead" or message.attempts >= self.max_attempts:
                    message.dead_at = now
                    log.warning(
                        "outbox message dead-lettered", extra={"outbox_message": str(message.id)}
                    )
                else:
                    message.next_attempt_at = now + backoff(message.attempts)
            await session.commit()

    async def run_once(self) -> int:
        """Send one batch; returns how many messages were delivered."""
        batch = await self._lease()
        if not batch:
            return 0
        status = await self._post([m.payload for m in batch])
        if status is not None and 200 <= status < 300:
            await self._settle({m.id: ("delivered", None) for m in batch})
            return len(batch)
        if status is None or status >= 500 or status in RETRYABLE:
            reason = "unreachable" if status is None else f"HTTP {status}"
            await self._settle({m.id: ("retry", reason) for m in batch})
            return 0
        # The batch was refused: find the message(s) the receiver will never take.
        outcomes: dict[Any, tuple[str, str | None]] = {}
        for message in batch:
            single = await self._post([message.payload])
            if single is not None and 200 <= single < 300:
                outcomes[message.id] = ("delivered", None)
            elif single is None or single >= 500 or single in RETRYABLE:
                outcomes[message.id] = ("retry", f"HTTP {single}")
            else:
                outcomes[message.id] = ("dead", f"refused with HTTP {single}")
        await self._settle(outcomes)
        return sum(1 for outcome, _ in outcomes.values() if outcome == "delivered")

    async def run_forever(self) -> None:
        while True:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox relay round failed")
                sent = 0
            if not sent:
                await asyncio.sleep(self.poll_seconds)

    async def status(self) -> dict[str, int]:
        """For /readyz details: what waits and what will never be delivered without help."""
        async with self.database.sessions() as session:
            pending = await session.exec(
                select(func.count()).where(
                    col(OutboxMessage.delivered_at).is_(None), col(OutboxMessage.dead_at).is_(None)
                )
            )
            dead = await session.exec(
                select(func.count()).where(col(OutboxMessage.dead_at).is_not(None))
            )
            return {"pending": int(pending.one()), "dead_letters": int(dead.one())}
