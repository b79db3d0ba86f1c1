"""A gateway in front of real ideas and reflection services, each served over HTTP on a free
port with a SQLite database of its own; the gateway counts its calls to each service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.ideas.app import MIGRATIONS as IDEAS_MIGRATIONS
from services.ideas.app import create_app as create_ideas
from services.reflection.app import MIGRATIONS as REFLECTION_MIGRATIONS
from services.reflection.app import create_app as create_reflection
from services.reflection.settings import ReflectionSettings
from tests.ideas.conftest import _seed_teams, ideas_settings
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port, serve_in_thread
from tests.support.waiting import DEADLINE_SECONDS

DEAD = "http://127.0.0.1:9"  # nobody listens on the discard port


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    app: Any
    urls: dict[str, str]
    platform: PlatformSettings

    def as_(self, subject: str, roles: str = "worker", teams: str = "packaging") -> dict[str, str]:
        return bearer(self.platform, subject, roles, teams)

    @property
    def calls(self) -> dict[str, int]:
        return dict(self.app.state.upstreams.calls)

    async def ask(self, query: str, headers: dict[str, str], **variables: Any) -> dict[str, Any]:
        response = await self.gateway.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return dict(response.json())


@pytest.fixture
def services(platform: PlatformSettings, tmp_path: Path) -> Iterator[dict[str, str]]:
    ideas_db = f"sqlite+aiosqlite:///{tmp_path / 'ideas.db'}"
    reflection_db = f"sqlite+aiosqlite:///{tmp_path / 'reflection.db'}"
    upgrade(IDEAS_MIGRATIONS, ideas_db)
    upgrade(REFLECTION_MIGRATIONS, reflection_db)
    asyncio.run(_seed_teams(ideas_db))
    ideas = create_ideas(ideas_settings(platform, ideas_db))
    reflection = create_reflection(
        ReflectionSettings(
            database_url=reflection_db,
            platform=platform,
            ingest_poll_seconds=0.2,
            relay_enabled=False,
        )
    )
    with (
        serve_in_thread(ideas, free_port()) as ideas_url,
        serve_in_thread(reflection, free_port()) as reflection_url,
    ):
        yield {"ideas": ideas_url, "reflection": reflection_url}


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def stack(
    platform: PlatformSettings, services: dict[str, str], gateway_overrides: dict[str, Any]
) -> AsyncIterator[Stack]:
    settings = GatewaySettings(
        platform=platform,
        ideas_url=services["ideas"],
        reflection_url=services["reflection"],
        analytics_url=DEAD,
        # A busy machine answers slowly, not wrongly (tests of timeouts set their own).
        **{
            "upstream_timeout_seconds": DEADLINE_SECONDS,
            "guide_timeout_seconds": DEADLINE_SECONDS,
            **gateway_overrides,
        },
    )
    app = create_gateway(settings)
    async with app_client(app) as client:
        yield Stack(gateway=client, app=app, urls=services, platform=platform)


@pytest.fixture
def guard_settings() -> dict[str, Any]:
    return {}


@pytest.fixture
async def lone_gateway(
    platform: PlatformSettings, guard_settings: dict[str, Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A gateway with no service behind it (every URL a dead port), signed in as wim; tests
    parametrize `guard_settings` to change its settings."""
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        platform=platform, ideas_url=dead, reflection_url=dead, analytics_url=dead, **guard_settings
    )
    app = create_gateway(settings)
    async with app_client(app) as client:
        client.headers.update(bearer(platform, "wim", "worker", "packaging"))
        yield client, app
