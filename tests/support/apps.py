"""Drive an app in-process: its lifespan runs, requests go through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from kit.auth import dev_secret, issue_dev_token
from kit.settings import PlatformSettings


@asynccontextmanager
async def app_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


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
