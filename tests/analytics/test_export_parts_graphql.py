"""exportMyData through the gateway follows the learning records' parts (issue 12, second
attack round: an export is bounded in size, so the records come in parts a client asks for)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.analytics.support import lms, migrated_app
from tests.analytics.test_lrs_limits import post_large
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port, serve_in_thread

PART = "query($after: String) { exportMyData(analyticsAfter: $after) }"


@pytest.fixture
async def stack(
    platform: PlatformSettings, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, set[str]]]:
    analytics = await migrated_app(
        platform, database_url, metrics_refresh_seconds=0, max_export_kb=200
    )
    dead = f"http://127.0.0.1:{free_port()}"  # only the analytics part is asked for here
    with serve_in_thread(analytics) as url:
        async with httpx.AsyncClient(base_url=url) as lrs:
            lrs.headers.update(lms(platform))
            ids = await post_large(lrs, platform.public_url.rstrip("/"), 8)
        settings = GatewaySettings(
            platform=platform, ideas_url=dead, reflection_url=dead, analytics_url=url
        )
        async with app_client(create_gateway(settings)) as client:
            yield client, ids


async def _part(client: httpx.AsyncClient, headers: dict[str, str], after: str) -> Any:
    reply = await client.post(
        "/graphql", json={"query": PART, "variables": {"after": after}}, headers=headers
    )
    assert reply.status_code == 200 and "errors" not in reply.json(), reply.text
    return reply.json()["data"]["exportMyData"]


async def test_the_export_parts_are_followed_until_the_records_are_complete(
    stack: tuple[httpx.AsyncClient, set[str]], platform: PlatformSettings
) -> None:
    client, ids = stack
    worker = bearer(platform, "alice", "worker")
    # The first part comes with every service's section; the other services are down here,
    # so start from the earliest position the analytics service knows.
    seen: list[str] = []
    after = "1970-01-01T00:00:00+00:00|00000000-0000-0000-0000-000000000000"
    parts = 0
    while after:
        part = await _part(client, worker, after)
        assert set(part) >= {"analytics", "analyticsAfter"}
        assert "ideas" not in part and "reflection" not in part  # only the records' next part
        seen += [s["id"] for s in part["analytics"]["statements"]]
        after = part["analyticsAfter"]
        parts += 1
    assert set(seen) == ids and len(seen) == 8 and parts > 1
