"""Two relay replicas on one outbox: every message reaches the receiver exactly once (counted
by the receiver itself, over real HTTP), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from kit.db import Database
from kit.migrations import upgrade
from kit.outbox import enqueue
from kit.relay import OutboxRelay
from tests.support.servers import serve_in_thread

IDEAS_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "ideas" / "migrations"
MESSAGES = 300


@pytest.fixture
def receiver() -> Iterator[tuple[str, Counter[str]]]:
    seen: Counter[str] = Counter()
    app = FastAPI()

    @app.post("/statements")
    async def take(request: Request) -> list[str]:
        batch = await request.json()
        await asyncio.sleep(0.01)  # a receiver that takes a moment, so the replicas overlap
        for item in batch:
            seen[item["id"]] += 1
        return [item["id"] for item in batch]

    with serve_in_thread(app) as url:
        yield url, seen


async def test_two_replicas_deliver_every_message_once(
    database_url: str, receiver: tuple[str, Counter[str]]
) -> None:
    url, seen = receiver
    await asyncio.to_thread(upgrade, IDEAS_MIGRATIONS, database_url)
    database = Database(database_url)
    async with database.sessions() as session:
        for _ in range(MESSAGES):
            message_id = uuid.uuid4()
            enqueue(session, "test", message_id, {"id": str(message_id)})
        await session.commit()
    async with httpx.AsyncClient() as http:
        replicas = [
            OutboxRelay(database, http, url=f"{url}/statements", headers=dict, batch_size=20)
            for _ in range(2)
        ]

        async def drain(relay: OutboxRelay) -> int:
            total = 0
            while (sent := await relay.run_once()) or (await relay.status())["pending"]:
                total += sent
            return total

        sent = await asyncio.gather(*(drain(r) for r in replicas))
    await database.dispose()
    assert sum(sent) == MESSAGES and all(s > 0 for s in sent), "both replicas did work"
    assert len(seen) == MESSAGES and set(seen.values()) == {1}, "each message arrived once"
