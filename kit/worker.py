"""The one background-worker pattern: a lease-based queue over a table, a loop that runs rounds
forever, and one helper that starts and stops workers in a FastAPI lifespan.

`LeasedQueue` works on any SQLModel table whose column names the service passes in
(`QueueColumns`): rows are claimed with a lease (several replicas never take one row together;
a row whose outcome was never recorded, after a crash, is taken again when its lease runs out),
then settled: done, retry with exponential back-off and jitter, or dead letter after
`max_attempts`. Delivery is therefore at least once; receivers are idempotent on the row's id.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import func, update
from sqlmodel import col, select

from kit.db import Database, unit_of_work, utcnow

log = logging.getLogger(__name__)
Row = TypeVar("Row")


def backoff(attempts: int, cap_seconds: float = 3600.0) -> timedelta:
    """The wait before the next try after `attempts` failed ones: exponential with jitter,
    uniformly between half and all of 2**attempts seconds (about 2 s, 4 s, 8 s ...), never above
    `cap_seconds`. Jitter spreads replicas and rows that failed together (a receiver outage)."""
    ceiling = min(cap_seconds, 2.0 ** min(attempts, 64))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto


class Outcome(StrEnum):
    """How one claimed row ended: done for good, try again later, or never (dead letter)."""

    done = "done"
    retry = "retry"
    dead = "dead"


@dataclass(frozen=True)
class QueueColumns:
    """The names of a queue table's columns (attributes of its SQLModel class).

    `due_at` (when the row may be claimed next; the lease moves it forward), `attempts` (failed
    tries so far) and `order_by` are required. A row's state is kept in `done_at` / `dead_at`
    timestamps, in a `status` text column (`pending_status` / `done_status` / `dead_status`),
    or both; `last_error` (optional) keeps the reason of the last failure."""

    id: str = "id"
    due_at: str = "next_attempt_at"
    attempts: str = "attempts"
    order_by: str = "created_at"
    last_error: str | None = "last_error"
    done_at: str | None = None
    dead_at: str | None = None
    status: str | None = None
    pending_status: str = "pending"
    done_status: str = "done"
    dead_status: str = "dead"


class LeasedQueue(Generic[Row]):
    """Claims and settles rows of `table` for one worker; each call is its own unit of work.

    `name` names the rows in logs ("outbox message" logs "outbox message dead-lettered" with
    the id under `outbox_message`). `count_done` also counts the successful try in `attempts`
    (for tables that show callers how many tries a delivery took)."""

    def __init__(
        self,
        database: Database,
        table: type[Row],
        columns: QueueColumns,
        *,
        name: str,
        batch_size: int = 50,
        max_attempts: int = 10,
        lease_seconds: float = 60.0,
        backoff_cap_seconds: float = 3600.0,
        count_done: bool = False,
    ) -> None:
        if columns.status is None and (columns.done_at is None or columns.dead_at is None):
            raise ValueError("a queue needs a status column or both done_at and dead_at")
        self.database, self.table, self.columns, self.name = database, table, columns, name
        self.batch_size, self.max_attempts = batch_size, max_attempts
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff_cap_seconds, self.count_done = backoff_cap_seconds, count_done

    def _column(self, name: str) -> Any:
        return col(getattr(self.table, name))

    def _pending(self) -> list[Any]:
        c = self.columns
        where = []
        if c.status is not None:
            where.append(self._column(c.status) == c.pending_status)
        if c.done_at is not None:
            where.append(self._column(c.done_at).is_(None))
        if c.dead_at is not None:
            where.append(self._column(c.dead_at).is_(None))
        return where

    def _dead(self) -> Any:
        c = self.columns
        if c.dead_at is not None:
            return self._column(c.dead_at).is_not(None)
        assert c.status is not None  # __init__ ensures one of the two
        return self._column(c.status) == c.dead_status

    async def claim(self, limit: int | None = None) -> list[Row]:
        """Lease up to `limit` (default `batch_size`) due pending rows, oldest `order_by` first,
        and return them (detached, as they were before the lease).

        On PostgreSQL, rows another replica is claiming right now are skipped (`FOR UPDATE SKIP
        LOCKED`), so replicas take different rows without waiting; the conditional update (only
        if `due_at` is still what was read) makes a claim exclusive on SQLite too."""
        c = self.columns
        async with unit_of_work(self.database) as session:
            now = utcnow()
            query = (
                select(self.table)
                .where(*self._pending(), self._column(c.due_at) <= now)
                .order_by(self._column(c.order_by))
                .limit(limit or self.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            leased = []
            for row in (await session.exec(query)).all():
                claimed = await session.exec(
                    update(self.table)
                    .where(
                        self._column(c.id) == getattr(row, c.id),
                        self._column(c.due_at) == getattr(row, c.due_at),
                    )
                    .values({c.due_at: now + self.lease})
                )
                if claimed.rowcount:
                    leased.append(row)
            return leased

    def settle_row(
        self, row: Row, outcome: Outcome, error: str | None = None, *, now: datetime | None = None
    ) -> Outcome:
        """Record `outcome` on `row` (attached to the caller's session, which commits) and
        return the outcome applied: a retry becomes dead once `attempts` reaches
        `max_attempts`; a retry's next try waits `backoff(attempts)`."""
        c = self.columns
        now = now or utcnow()
        if outcome is Outcome.done:
            if self.count_done:
                setattr(row, c.attempts, getattr(row, c.attempts) + 1)
            self._mark(row, c.done_at, c.done_status, now)
            return outcome
        attempts = getattr(row, c.attempts) + 1
        setattr(row, c.attempts, attempts)
        if c.last_error is not None:
            setattr(row, c.last_error, error)
        if outcome is Outcome.dead or attempts >= self.max_attempts:
            self._mark(row, c.dead_at, c.dead_status, now)
            key = self.name.replace(" ", "_")
            log.warning(f"{self.name} dead-lettered", extra={key: str(getattr(row, c.id))})
            return Outcome.dead
        setattr(row, c.due_at, now + backoff(attempts, self.backoff_cap_seconds))
        return Outcome.retry

    def _mark(self, row: Row, at: str | None, status: str, now: datetime) -> None:
        if at is not None:
            setattr(row, at, now)
        if self.columns.status is not None:
            setattr(row, self.columns.status, status)

    async def settle(self, outcomes: Mapping[Any, tuple[Outcome, str | None]]) -> None:
        """Record `(outcome, error)` per row id in one unit of work; rows deleted meanwhile are
        skipped. See `settle_row` for what each outcome writes."""
        async with unit_of_work(self.database) as session:
            now = utcnow()
            for row_id, (outcome, error) in outcomes.items():
                row = await session.get(self.table, row_id)
                if row is not None:
                    self.settle_row(row, outcome, error, now=now)

    async def counts(self) -> dict[str, int]:
        """For /readyz details: `{"pending": rows still to do (leased or not), "dead_letters":
        rows that will never be done without help}`."""
        async with self.database.reading() as session:
            pending = await session.exec(select(func.count()).where(*self._pending()))
            dead = await session.exec(select(func.count()).where(self._dead()))
            return {"pending": int(pending.one()), "dead_letters": int(dead.one())}


async def run_forever(
    run_once: Callable[[], Awaitable[int | bool]],
    *,
    name: str,
    poll_seconds: float,
    wake: asyncio.Event | None = None,
    rest_every_round: bool = False,
) -> None:
    """Run `run_once` round after round until cancelled; never returns.

    A round that raises is logged (`"<name> round failed"` with the traceback) and counts as
    idle, so one bad round never stops the worker. After an idle round (a falsy result) the loop
    sleeps `poll_seconds`, or less when `wake` is set meanwhile; after a busy round it goes on at
    once, unless `rest_every_round` (a periodic job, e.g. a refresh every N seconds)."""
    while True:
        try:
            worked = await run_once()
        except Exception:
            log.exception(f"{name} round failed")
            worked = 0
        if worked and not rest_every_round:
            continue
        if wake is None:
            await asyncio.sleep(poll_seconds)
            continue
        wake.clear()
        with suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), poll_seconds)


@asynccontextmanager
async def workers_running(
    workers: Mapping[str, Callable[[], Awaitable[None]] | None], *, stop_seconds: float = 10.0
) -> AsyncIterator[dict[str, asyncio.Task[None]]]:
    """Start each named worker (a coroutine function; None = disabled, not started) as a task
    for the body of the `async with`, and yield the tasks by name.

    On exit every task is cancelled and awaited for at most `stop_seconds` in all, so shutdown
    is bounded; a worker that does not stop in time, or that had died with an exception, is
    logged, never raised, so the other lifespan steps (closing engines) still run."""
    tasks = {
        name: asyncio.create_task(_as_coroutine(start), name=name)
        for name, start in workers.items()
        if start is not None
    }
    try:
        yield tasks
    finally:
        for task in tasks.values():
            task.cancel()
        if tasks:
            _, late = await asyncio.wait(tasks.values(), timeout=stop_seconds)
            for name, task in tasks.items():
                if task in late:
                    log.warning("worker did not stop in time", extra={"worker": name})
                elif not task.cancelled() and task.exception() is not None:
                    log.error("worker had stopped with an error", exc_info=task.exception())


async def _as_coroutine(start: Callable[[], Awaitable[None]]) -> None:
    await start()
