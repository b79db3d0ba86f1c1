"""The analytics service on a fresh database (SQLite and PostgreSQL), as an LRS client sees it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS, create_app
from services.analytics.settings import AnalyticsSettings
from tests.support.apps import app_client, bearer

V = {"X-Experience-API-Version": "1.0.3"}


@pytest.fixture
async def lrs(platform: PlatformSettings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    app = create_app(
        AnalyticsSettings(database_url=database_url, platform=platform, metrics_refresh_seconds=0)
    )
    async with app_client(app) as client:
        client.headers.update({**bearer(platform, "lms-1", "lrs-client"), **V})
        yield client
