"""The analytics service on a fresh database (SQLite and PostgreSQL), as an LRS client sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.support import lms, migrated_app
from tests.support.apps import app_client


@pytest.fixture
async def lrs(platform: PlatformSettings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = await migrated_app(platform, database_url, metrics_refresh_seconds=0)
    async with app_client(app) as client:
        client.headers.update(lms(platform))
        yield client
