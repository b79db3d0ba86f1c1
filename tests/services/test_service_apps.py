"""Each service starts on its migrated database, on SQLite and PostgreSQL, and checks tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI

from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS as ANALYTICS_MIGRATIONS
from services.analytics.app import create_app as analytics_app
from services.analytics.settings import AnalyticsSettings
from services.ideas.app import MIGRATIONS as IDEAS_MIGRATIONS
from services.ideas.app import create_app as ideas_app
from services.ideas.settings import IdeasSettings
from services.reflection.app import MIGRATIONS as REFLECTION_MIGRATIONS
from services.reflection.app import create_app as reflection_app
from services.reflection.settings import ReflectionSettings
from tests.support.apps import app_client, bearer

SERVICES = {
    "ideas": (ideas_app, IdeasSettings, IDEAS_MIGRATIONS),
    "reflection": (reflection_app, ReflectionSettings, REFLECTION_MIGRATIONS),
    "analytics": (analytics_app, AnalyticsSettings, ANALYTICS_MIGRATIONS),
}


@pytest.mark.parametrize("service", list(SERVICES))
async def test_service_is_live_ready_and_authenticates(
    service: str, platform: PlatformSettings, database_url: str
) -> None:
    factory, settings_class, migrations = SERVICES[service]
    await asyncio.to_thread(upgrade, migrations, database_url)
    app: FastAPI = factory(settings_class(database_url=database_url, platform=platform))
    async with app_client(app) as client:
        assert (await client.get("/healthz")).json() == {"service": service, "status": "up"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert (await client.get("/v1/me")).status_code == 401
        me = await client.get("/v1/me", headers=bearer(platform, "bob", "coach", "packaging"))
        assert me.json()["subject"] == "bob"


def test_services_default_to_sqlite_under_var(tmp_path: Path) -> None:
    platform = PlatformSettings(var_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    settings = IdeasSettings(platform=platform, _env_file=None)  # type: ignore[call-arg]
    assert settings.database == f"sqlite+aiosqlite:///{tmp_path / 'ideas.db'}"
    assert settings.port == 8001
