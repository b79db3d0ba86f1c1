"""A reflection service on a fresh database (SQLite and PostgreSQL) and a fresh Qdrant Edge shard,
with the real bundled embedding model. The ingestion worker is driven by the tests, step by step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from kit.settings import PlatformSettings
from services.reflection.app import MIGRATIONS, create_app
from services.reflection.index.base import IndexFilter
from services.reflection.settings import ReflectionSettings
from tests.support.apps import ServiceEnv, bearer, started_on_migrated

FAULT_PROCEDURE = """# Storing aan de inpaklijn

Deze procedure geldt voor alle inpaklijnen.

## Noodstop

Bij gevaar voor mensen: druk direct op de rode noodstop en waarschuw de ploegleider.

## Melden

Meld elke storing binnen vijftien minuten in het storingslogboek, met de lijn en de foutcode.
"""

SALARY_NOTE = """# Salary review

Team lead salary scales are reviewed every March by the works council and HR together.
"""


@dataclass
class ReflectionEnv(ServiceEnv):
    def as_(self, person: str, roles: str = "worker", teams: str = "packaging") -> dict[str, str]:
        return bearer(self.platform, person, roles, teams)

    @property
    def admin(self) -> dict[str, str]:
        return self.as_("root", "admin", "")

    async def upload(
        self, content: bytes | str, *, filename: str = "procedure.md", kind: str = "text/markdown",
        expect: int = 202, **fields: str,
    ) -> dict[str, Any]:  # fmt: skip
        data = content.encode() if isinstance(content, str) else content
        form = {"title": "Storingsprocedure inpaklijn", **fields}
        response = await self.client.post(
            "/v1/documents", files={"file": (filename, data, kind)}, data=form, headers=self.admin
        )
        assert response.status_code == expect, response.text
        return dict(response.json())

    async def new_version(self, document_id: str, content: str) -> dict[str, Any]:
        response = await self.client.post(
            f"/v1/documents/{document_id}/versions",
            files={"file": ("procedure.md", content.encode(), "text/markdown")},
            headers=self.admin,
        )
        assert response.status_code == 202, response.text
        return dict(response.json())

    async def ingest(self) -> None:
        """Run queued jobs to the end, as the background worker would."""
        while await self.app.state.ingestor.run_once():
            pass

    async def job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/jobs/{job_id}", headers=self.admin)
        return dict(response.json())

    async def search(
        self, query: str, headers: dict[str, str], **extra: Any
    ) -> list[dict[str, Any]]:
        response = await self.client.post(
            "/v1/search", json={"query": query, **extra}, headers=headers
        )
        assert response.status_code == 200, response.text
        return list(response.json()["hits"])

    async def chunks(self, **where: Any) -> int:
        return int(await self.app.state.index.count(IndexFilter(teams=None, **where)))


@pytest.fixture
def reflection_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def reflection(
    platform: PlatformSettings, database_url: str, reflection_overrides: dict[str, Any]
) -> AsyncIterator[ReflectionEnv]:
    settings = ReflectionSettings(
        database_url=database_url,
        platform=platform,
        ingest_worker_enabled=False,
        **{"relay_enabled": False, **reflection_overrides},
    )
    make = partial(create_app, settings)
    async with started_on_migrated(MIGRATIONS, database_url, make) as (app, client):
        yield ReflectionEnv(client=client, app=app, platform=platform, database_url=database_url)
