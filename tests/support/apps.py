"""Drive an app in-process: its lifespan runs, requests go through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from kit.auth import dev_secret, issue_dev_token
from kit.migrations import upgrade
from kit.settings import PlatformSettings


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@dataclass
class ServiceEnv:
    """A started service under test: a client to it, the app, the platform settings it runs
    with and its database URL. Each service's tests extend it with their own helpers."""

    client: httpx.AsyncClient
    app: FastAPI
    platform: PlatformSettings
    database_url: str


@asynccontextmanager
async def started_on_migrated(
    migrations: Path,
    database_url: str,
    make_app: Callable[[], FastAPI],
    seed: Callable[[str], Awaitable[None]] | None = None,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Migrate `database_url` to the head of `migrations`, `seed` it if given, then build the
    app with `make_app` and start it; yields the app and a client to it."""
    await asyncio.to_thread(upgrade, migrations, database_url)
    if seed is not None:
        await seed(database_url)
    app = make_app()
    async with app_client(app) as client:
        yield app, client


def bearer(
    platform: PlatformSettings, subject: str = "alice", roles: str = "worker", teams: str = ""
) -> dict[str, str]:
    token = issue_dev_token(
        dev_secret(platform.var_dir),
        subject=subject,
        roles=[r for r in roles.split(",") if r],
        teams=[t for t in teams.split(",") if t],
    )
    return {"Authorization": f"Bearer {token}"}
