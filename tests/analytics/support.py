"""What the analytics tests share: the xAPI version header, an analytics app on a migrated
database, the demo LMS client's headers, and storing seed batches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx
from fastapi import FastAPI

from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS, create_app
from services.analytics.settings import AnalyticsSettings
from tests.support.apps import bearer

V = {"X-Experience-API-Version": "1.0.3"}


async def migrated_app(platform: PlatformSettings, database_url: str, **settings: Any) -> FastAPI:
    """An analytics app (not started) on `database_url`, migrated to the head revision first;
    `settings` override AnalyticsSettings fields (e.g. `metrics_refresh_seconds=0`)."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    return create_app(AnalyticsSettings(database_url=database_url, platform=platform, **settings))


def lms(platform: PlatformSettings) -> dict[str, str]:
    """Headers of the LMS client `lms-1` (a bearer token with the lrs-client role) with V."""
    return {**bearer(platform, "lms-1", "lrs-client"), **V}


async def post_batches(
    client: httpx.AsyncClient, headers: dict[str, str], batches: Iterable[list[dict[str, Any]]]
) -> None:
    """POST each batch to /xapi/statements in turn; each must be stored (200)."""
    for batch in batches:
        posted = await client.post("/xapi/statements", json=batch, headers=headers)
        assert posted.status_code == 200, posted.text
