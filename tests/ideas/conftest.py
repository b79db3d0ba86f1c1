"""An ideas service on a fresh database (SQLite and PostgreSQL), with two teams and five people."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from kit.db import Database
from kit.settings import PlatformSettings
from services.ideas.app import MIGRATIONS, create_app
from services.ideas.models import Team
from services.ideas.settings import IdeasSettings
from tests.support.apps import ServiceEnv, bearer, started_on_migrated
from tests.support.servers import free_port

PEOPLE = {
    "alice": ("worker", "packaging"),
    "bob": ("worker", "packaging"),
    "carla": ("coach,worker", "packaging"),
    "dirk": ("coach", "logistics"),
    "root": ("admin", ""),
}


@dataclass
class IdeasEnv(ServiceEnv):
    def as_(
        self, person: str, roles: str | None = None, teams: str | None = None
    ) -> dict[str, str]:
        default_roles, default_teams = PEOPLE.get(person, ("worker", "packaging"))
        return bearer(
            self.platform,
            person,
            roles if roles is not None else default_roles,
            teams if teams is not None else default_teams,
        )

    async def create(self, person: str = "alice", **fields: Any) -> dict[str, Any]:
        body = {
            "title": "Kortere omsteltijd inpaklijn",
            "problem": "Het wisselen van doosformaat kost elke keer twintig minuten.",
            "proposal": "Leg de mallen per formaat klaar op een kar naast de lijn.",
            "team": "packaging",
            **fields,
        }
        response = await self.client.post("/v1/ideas", json=body, headers=self.as_(person))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def commented(
        self, body: str, person: str = "bob"
    ) -> tuple[dict[str, Any], str, dict[str, Any]]:
        """A submitted idea with one comment by `person`: (idea, comments URL, comment)."""
        idea = await self.create(submit=True)
        url = f"/v1/ideas/{idea['id']}/comments"
        made = await self.client.post(url, json={"body": body}, headers=self.as_(person))
        assert made.status_code == 201, made.text
        return idea, url, dict(made.json())

    async def move(
        self,
        idea_id: str,
        to: str,
        person: str,
        reason: str | None = None,
        version: int | None = None,
    ) -> httpx.Response:
        """POST a transition with If-Match: the given version, else the one stored now."""
        body: dict[str, Any] = {"to": to}
        if reason is not None:
            body["reason"] = reason
        seen = version if version is not None else await self.version_of(idea_id)
        headers = {**self.as_(person), "If-Match": f'"{seen}"'}
        return await self.client.post(
            f"/v1/ideas/{idea_id}/transitions", json=body, headers=headers
        )

    def db_id(self, value: str) -> str:
        """A UUID as the database stores it (SQLite: 32 hex digits, PostgreSQL: uuid text)."""
        return value.replace("-", "") if "sqlite" in self.database_url else value

    async def version_of(self, idea_id: str) -> int:
        return int(
            await self.scalar("SELECT version FROM ideas WHERE id = :id", id=self.db_id(idea_id))
        )

    async def scalar(self, sql: str, **params: Any) -> Any:
        from sqlalchemy import text

        database = Database(self.database_url)
        try:
            async with database.engine.connect() as connection:
                return (await connection.execute(text(sql), params)).scalar()
        finally:
            await database.dispose()

    async def rows(self, sql: str) -> list[Any]:
        from sqlalchemy import text

        database = Database(self.database_url)
        try:
            async with database.engine.connect() as connection:
                return list((await connection.execute(text(sql))).all())
        finally:
            await database.dispose()


async def _seed_teams(url: str) -> None:
    database = Database(url)
    async with database.sessions() as session:
        session.add(Team(key="packaging", name="Inpak"))
        session.add(Team(key="logistics", name="Logistiek"))
        await session.commit()
    await database.dispose()


def ideas_settings(platform: PlatformSettings, url: str, **overrides: Any) -> IdeasSettings:
    values: dict[str, Any] = {
        "database_url": url,
        "platform": platform,
        "webhook_dispatcher_enabled": False,
        "relay_enabled": False,  # tests drive the relay themselves
        "analytics_url": f"http://127.0.0.1:{free_port()}",
        "reflection_url": f"http://127.0.0.1:{free_port()}",  # nobody listens: lexical only
        **overrides,
    }
    return IdeasSettings(**values)


@pytest.fixture
def ideas_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def ideas(
    platform: PlatformSettings, database_url: str, ideas_overrides: dict[str, Any]
) -> AsyncIterator[IdeasEnv]:
    settings = ideas_settings(platform, database_url, **ideas_overrides)
    make = partial(create_app, settings)
    async with started_on_migrated(MIGRATIONS, database_url, make, _seed_teams) as (app, client):
        yield IdeasEnv(client=client, app=app, platform=platform, database_url=database_url)


Factory = Callable[..., Any]
