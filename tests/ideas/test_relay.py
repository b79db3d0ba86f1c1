"""The outbox relay to the analytics LRS over real HTTP: nothing lost while analytics is down,
everything exactly once after, poison messages dead-lettered and visible in /readyz."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kit.db import Database
from kit.migrations import upgrade
from kit.outbox import OutboxMessage
from kit.relay import OutboxRelay
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS as ANALYTICS_MIGRATIONS
from services.analytics.app import create_app as analytics_app
from services.analytics.settings import AnalyticsSettings
from tests.ideas.conftest import IdeasEnv
from tests.support.servers import free_port, serve_in_thread

PORT = free_port()


@pytest.fixture
def ideas_overrides() -> dict[str, Any]:
    return {"analytics_url": f"http://127.0.0.1:{PORT}"}


@pytest.fixture
def analytics_db(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'analytics.db'}"
    upgrade(ANALYTICS_MIGRATIONS, url)
    return url


@pytest.fixture
def start_analytics(platform: PlatformSettings, analytics_db: str) -> Iterator[Any]:
    servers: list[Any] = []

    def start() -> None:
        server = serve_in_thread(
            analytics_app(AnalyticsSettings(platform=platform, database_url=analytics_db)), PORT
        )
        server.__enter__()
        servers.append(server)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


async def _all_due(url: str) -> None:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE outbox SET next_attempt_at = created_at"))
    await database.dispose()


async def _drain(relay: OutboxRelay) -> None:
    while await relay.run_once():
        pass


async def _stored_ids(url: str) -> list[str]:
    database = Database(url)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT id FROM statements"))).all()
    await database.dispose()
    return [str(uuid.UUID(str(r[0]))) for r in rows]


async def test_statements_wait_while_analytics_is_down_then_arrive_exactly_once(
    ideas: IdeasEnv, start_analytics: Any, analytics_db: str
) -> None:
    relay: OutboxRelay = ideas.app.state.relay
    for i in range(200):
        await ideas.create(title=f"Idee nummer {i:03d}")
    assert await relay.run_once() == 0  # analytics is down
    assert (await relay.status()) == {"pending": 200, "dead_letters": 0}

    start_analytics()
    await _all_due(ideas.database_url)
    await _drain(relay)
    assert (await relay.status())["pending"] == 0
    outbox_ids = {str(uuid.UUID(str(r[0]))) for r in await ideas.rows("SELECT id FROM outbox")}
    stored = await _stored_ids(analytics_db)
    assert len(stored) == 200 and set(stored) == outbox_ids

    # A crash after sending but before recording: the same batch goes again. Still 200.
    database = Database(ideas.database_url)
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE outbox SET delivered_at = NULL"))
    await database.dispose()
    await _drain(relay)
    assert len(await _stored_ids(analytics_db)) == 200


async def test_a_poison_message_is_dead_lettered_and_shown_in_readyz(
    ideas: IdeasEnv, start_analytics: Any
) -> None:
    start_analytics()
    await ideas.create()
    database = Database(ideas.database_url)
    async with database.sessions() as session:
        session.add(
            OutboxMessage(
                id=uuid.uuid4(), topic="xapi.statement", payload={"verb": "not a statement"}
            )
        )
        await session.commit()
    await database.dispose()
    relay: OutboxRelay = ideas.app.state.relay
    await _drain(relay)
    assert await relay.status() == {"pending": 0, "dead_letters": 1}
    ready = (await ideas.client.get("/readyz")).json()
    assert ready["status"] == "up"
    assert ready["checks"]["outbox"]["details"] == {"pending": 0, "dead_letters": 1}


async def test_the_relay_can_use_an_lrs_client_key(
    ideas: IdeasEnv, start_analytics: Any, analytics_db: str, platform: PlatformSettings
) -> None:
    """Production credentials: a key and secret an admin made in analytics, sent as Basic."""
    import httpx

    from kit.relay_app import make_relay
    from tests.support.apps import bearer

    start_analytics()
    async with httpx.AsyncClient() as client:
        made = await client.post(
            f"http://127.0.0.1:{PORT}/v1/lrs-clients",
            json={"name": "ideas service"},
            headers=bearer(platform, "root", "admin"),
        )
    key, secret = made.json()["key"], made.json()["secret"]
    settings = ideas.app.state.settings.model_copy(update={"lrs_key": key, "lrs_secret": secret})
    ideas.app.state.settings = settings
    relay = make_relay(ideas.app, "ideas")
    assert relay is not None
    await ideas.create()
    await _drain(relay)
    assert len(await _stored_ids(analytics_db)) == 1
