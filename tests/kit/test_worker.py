"""kit/worker.py on SQLite and PostgreSQL, without HTTP: claims are exclusive, back-off stays in
its bounds, rows are dead-lettered after max attempts, the loop survives a failing round, and
workers stop with the lifespan."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from kit.db import Database, UTCDateTime, unit_of_work, utcnow
from kit.worker import LeasedQueue, Outcome, QueueColumns, backoff, run_forever, workers_running


class _Base(SQLModel, registry=registry()):  # its own metadata: no table for the services
    pass


class Job(_Base, table=True):
    """A queue row kept with timestamps (like the outbox)."""

    __tablename__ = "kit_test_jobs"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    attempts: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    dead_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None


class Delivery(_Base, table=True):
    """A queue row kept with a status text (like webhook deliveries)."""

    __tablename__ = "kit_test_deliveries"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    attempts: int = 0
    status: str = "pending"
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


JOBS = QueueColumns(done_at="done_at", dead_at="dead_at")
DELIVERIES = QueueColumns(
    order_by="next_attempt_at", last_error=None, done_at="delivered_at", status="status"
)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.create_all)
    yield database
    async with database.engine.begin() as connection:
        await connection.run_sync(_Base.metadata.drop_all)
    await database.dispose()


async def add(database: Database, rows: list[Any]) -> None:
    async with unit_of_work(database) as session:
        session.add_all(rows)


async def make_all_due(database: Database, table: type[Job] | type[Delivery]) -> None:
    async with unit_of_work(database) as session:
        await session.exec(update(table).values(next_attempt_at=utcnow() - timedelta(days=1)))


async def test_replicas_never_claim_the_same_row(database: Database) -> None:
    await add(database, [Job() for _ in range(120)])
    replicas = [LeasedQueue(database, Job, JOBS, name="job", batch_size=7) for _ in range(3)]
    claimed: Counter[uuid.UUID] = Counter()

    async def drain(queue: LeasedQueue[Job]) -> None:
        while batch := await queue.claim():
            claimed.update(job.id for job in batch)
            await queue.settle({job.id: (Outcome.done, None) for job in batch})

    await asyncio.gather(*(drain(q) for q in replicas))
    assert len(claimed) == 120 and set(claimed.values()) == {1}
    assert await replicas[0].counts() == {"pending": 0, "dead_letters": 0}


async def test_a_leased_row_is_not_claimed_again_until_its_lease_runs_out(
    database: Database,
) -> None:
    await add(database, [Job()])
    queue = LeasedQueue(database, Job, JOBS, name="job", lease_seconds=60)
    assert len(await queue.claim()) == 1
    assert await queue.claim() == []  # leased: a crash before settling loses nothing ...
    assert await queue.counts() == {"pending": 1, "dead_letters": 0}
    await make_all_due(database, Job)  # ... the lease runs out
    assert len(await queue.claim()) == 1


async def test_rows_come_oldest_first_and_settled_rows_never_again(database: Database) -> None:
    start = utcnow() - timedelta(minutes=5)
    jobs = [Job(created_at=start + timedelta(seconds=i)) for i in range(5)]
    await add(database, list(reversed(jobs)))
    queue = LeasedQueue(database, Job, JOBS, name="job", batch_size=3)
    assert [j.id for j in await queue.claim()] == [j.id for j in jobs[:3]]
    await queue.settle({j.id: (Outcome.done, None) for j in jobs[:3]})
    await make_all_due(database, Job)
    assert [j.id for j in await queue.claim()] == [j.id for j in jobs[3:]]


async def test_a_failing_row_backs_off_then_is_dead_lettered(database: Database) -> None:
    job = Job()
    await add(database, [job])
    queue = LeasedQueue(database, Job, JOBS, name="job", max_attempts=3)
    for attempt in (1, 2):
        before = utcnow()
        [claimed] = await queue.claim()
        await queue.settle({claimed.id: (Outcome.retry, f"HTTP 503 #{attempt}")})
        async with database.reading() as session:
            row = await session.get(Job, job.id)
        assert row is not None and row.attempts == attempt and row.dead_at is None
        assert row.last_error == f"HTTP 503 #{attempt}"
        wait = row.next_attempt_at - before
        assert timedelta(seconds=2**attempt / 2) <= wait <= timedelta(seconds=2**attempt + 1)
        await make_all_due(database, Job)
    [claimed] = await queue.claim()
    await queue.settle({claimed.id: (Outcome.retry, "HTTP 503 #3")})
    assert await queue.counts() == {"pending": 0, "dead_letters": 1}
    await make_all_due(database, Job)
    assert await queue.claim() == []


async def test_a_final_refusal_is_dead_at_once(database: Database) -> None:
    job = Job()
    await add(database, [job])
    queue = LeasedQueue(database, Job, JOBS, name="job")
    [claimed] = await queue.claim()
    await queue.settle({claimed.id: (Outcome.dead, "refused")})
    assert await queue.counts() == {"pending": 0, "dead_letters": 1}


async def test_a_status_column_queue_counts_and_settles_by_status(database: Database) -> None:
    ok, bad = Delivery(), Delivery()
    await add(database, [ok, bad])
    queue = LeasedQueue(
        database, Delivery, DELIVERIES, name="delivery", max_attempts=1, count_done=True
    )
    assert {d.id for d in await queue.claim()} == {ok.id, bad.id}
    async with unit_of_work(database) as session:
        rows = {
            d.id: d
            for d in [await session.get(Delivery, ok.id), await session.get(Delivery, bad.id)]
            if d
        }
        assert queue.settle_row(rows[ok.id], Outcome.done) is Outcome.done
        assert queue.settle_row(rows[bad.id], Outcome.retry, "timeout") is Outcome.dead
    async with database.reading() as session:
        done, failed = await session.get(Delivery, ok.id), await session.get(Delivery, bad.id)
    assert done is not None and (done.status, done.attempts) == ("done", 1)
    assert done.delivered_at is not None
    assert failed is not None and (failed.status, failed.attempts) == ("dead", 1)
    assert await queue.counts() == {"pending": 0, "dead_letters": 1}


def test_a_queue_needs_a_way_to_tell_states() -> None:
    with pytest.raises(ValueError):
        LeasedQueue(Database("sqlite+aiosqlite://"), Job, QueueColumns(done_at="done_at"), name="x")


def test_backoff_doubles_with_jitter_and_stays_under_its_cap() -> None:
    for attempts in range(1, 12):
        waits = [backoff(attempts).total_seconds() for _ in range(200)]
        ceiling = min(3600.0, 2.0**attempts)
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1, "jittered"
    assert backoff(10_000).total_seconds() <= 3600.0
    assert backoff(30, cap_seconds=5).total_seconds() <= 5


async def test_the_loop_survives_a_failing_round_and_rests_only_when_idle() -> None:
    loop = asyncio.get_running_loop()
    results: list[int | Exception] = [RuntimeError("database gone"), 3, 0, 0]
    at: list[float] = []

    async def run_once() -> int:
        at.append(loop.time())
        result = results[min(len(at), len(results)) - 1]
        if isinstance(result, Exception):
            raise result
        return result

    task = asyncio.create_task(run_forever(run_once, name="test", poll_seconds=0.2))
    await asyncio.sleep(0.7)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(at) >= 4
    assert at[1] - at[0] >= 0.19, "a failed round counts as idle: the loop rests, then goes on"
    assert at[2] - at[1] < 0.1, "after a busy round the next one starts at once"
    assert at[3] - at[2] >= 0.19, "after an idle round the loop rests poll_seconds"


async def test_a_wake_event_cuts_the_idle_sleep_short() -> None:
    wake = asyncio.Event()
    rounds = 0

    async def run_once() -> bool:
        nonlocal rounds
        rounds += 1
        return False

    task = asyncio.create_task(run_forever(run_once, name="t", poll_seconds=60, wake=wake))
    await asyncio.sleep(0.05)
    assert rounds == 1
    wake.set()
    await asyncio.sleep(0.05)
    assert rounds == 2
    task.cancel()


async def test_workers_start_with_the_lifespan_and_stop_with_it() -> None:
    started: list[str] = []
    stopped: list[str] = []

    def worker(name: str) -> Any:
        async def run() -> None:
            started.append(name)
            try:
                await asyncio.sleep(3600)
            finally:
                stopped.append(name)

        return run

    async with workers_running({"a": worker("a"), "off": None, "b": worker("b")}) as tasks:
        await asyncio.sleep(0.01)
        assert sorted(tasks) == ["a", "b"] and sorted(started) == ["a", "b"]
    assert sorted(stopped) == ["a", "b"]
    assert all(task.done() for task in tasks.values())


async def test_stopping_is_bounded_even_for_a_worker_that_ignores_cancel() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # ignores the first cancel, as a badly written worker might

    loop = asyncio.get_running_loop()
    begun = loop.time()
    async with workers_running({"stubborn": stubborn}, stop_seconds=0.1) as tasks:
        await asyncio.sleep(0.01)
    assert loop.time() - begun < 2
    release.set()
    tasks["stubborn"].cancel()
