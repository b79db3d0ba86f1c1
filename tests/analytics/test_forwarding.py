"""Forwarding to an external LRS over real HTTP: the other LRS is a second analytics service on
a database of its own, reached with an LRS client key and secret it issued."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS, create_app
from services.analytics.settings import AnalyticsSettings
from tests.analytics.support import V, migrated_app
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port, serve_in_thread


@pytest.fixture
async def central(platform: PlatformSettings, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """The organisation's central LRS, over HTTP, with a client made for our forwarder."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'central.db'}"
    await asyncio.to_thread(upgrade, MIGRATIONS, url)
    app = create_app(AnalyticsSettings(database_url=url, platform=platform))
    port = free_port()
    with serve_in_thread(app, port) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            made = await client.post(
                "/v1/lrs-clients",
                json={"name": "werkvloer"},
                headers=bearer(platform, "root", "admin"),
            )
            assert made.status_code == 201, made.text
            yield {"url": base, "port": port, "app": app, "client": client, **made.json()}


def _to(central: dict[str, Any]) -> dict[str, str]:
    """Forwarding settings that reach the central LRS with the client it issued."""
    return {
        "forward_url": f"{central['url']}/xapi",
        "forward_key": central["key"],
        "forward_secret": central["secret"],
    }


@asynccontextmanager
async def _local(
    platform: PlatformSettings, database_url: str, **forward: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Our analytics service on a migrated database, forwarding as `forward` says; the
    forwarder only runs when a test calls run_once."""
    app = await migrated_app(
        platform, database_url, forward_enabled=False, metrics_refresh_seconds=0, **forward
    )
    async with app_client(app) as local:
        yield app, local


async def _stored(central: dict[str, Any], platform: PlatformSettings) -> set[str]:
    response = await central["client"].get(
        "/xapi/statements",
        params={"limit": 100},
        headers={**bearer(platform, "root", "admin"), **V},
    )
    return {s["id"] for s in response.json()["statements"]}


async def test_new_statements_reach_the_external_lrs_once(
    platform: PlatformSettings, database_url: str, central: dict[str, Any]
) -> None:
    async with _local(platform, database_url, **_to(central)) as (app, local):
        lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
        sent = [statement() for _ in range(3)]
        assert (await local.post("/xapi/statements", json=sent, headers=lrs)).status_code == 200
        # The same batch again is a no-op here, so nothing new is queued either.
        assert (await local.post("/xapi/statements", json=sent, headers=lrs)).status_code == 200
        forwarder = app.state.forwarder
        assert await forwarder.status() == {"pending": 3, "dead_letters": 0}
        assert await forwarder.run_once() == 3
        assert await _stored(central, platform) == {s["id"] for s in sent}
        assert await forwarder.status() == {"pending": 0, "dead_letters": 0}
        ready = (await local.get("/readyz")).json()
        assert ready["checks"]["forwarding"]["details"] == {"pending": 0, "dead_letters": 0}


async def test_forwarding_waits_while_the_external_lrs_is_down(
    platform: PlatformSettings, database_url: str, tmp_path: Path
) -> None:
    down = {"forward_url": f"http://127.0.0.1:{free_port()}/xapi", "forward_token": "t"}
    async with _local(platform, database_url, **down) as (app, local):
        lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
        posted = await local.post(
            "/xapi/statements", json=statement(id=str(uuid.uuid4())), headers=lrs
        )
        assert posted.status_code == 200, "storing never waits for the other LRS"
        assert await app.state.forwarder.run_once() == 0
        assert await app.state.forwarder.status() == {"pending": 1, "dead_letters": 0}


async def test_erasure_takes_the_persons_queued_forwards_with_it(
    platform: PlatformSettings, database_url: str, central: dict[str, Any]
) -> None:
    """Found by review: erasure deleted the statements but left their forwards queued, so the
    relay would have carried the person to the other LRS after they were erased."""
    async with _local(platform, database_url, **_to(central)) as (app, local):
        lrs = {**bearer(platform, "lms-1", "lrs-client"), **V}
        home = platform.public_url.rstrip("/")
        by = {
            name: statement(
                actor={"objectType": "Agent", "account": {"homePage": home, "name": name}}
            )
            for name in ("alice", "bob")
        }
        stored = await local.post("/xapi/statements", json=list(by.values()), headers=lrs)
        assert stored.status_code == 200, stored.text
        erased = await local.delete("/v1/my-data", headers=bearer(platform, "alice", "worker"))
        assert erased.status_code == 200 and erased.json()["statements_deleted"] == 1
        forwarder = app.state.forwarder
        assert await forwarder.status() == {"pending": 1, "dead_letters": 0}
        assert await forwarder.run_once() == 1
        assert await _stored(central, platform) == {by["bob"]["id"]}
