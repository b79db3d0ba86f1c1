"""Turning a reflection action into an idea happens once, whatever fails (issue 12, #15).

The ideas service commits the idea; the reflection service then commits the link. A crash in
between, then a retry, used to make a second idea. The create now carries an Idempotency-Key
derived from the reflection and the action, so the retry gets the first idea back. The ideas
service runs for real over HTTP; the reflection service on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kit.db import Database
from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.ideas.app import MIGRATIONS as IDEAS_MIGRATIONS
from services.ideas.app import create_app as create_ideas
from services.reflection.journal.idea_drafts import IdeasClient
from tests.ideas.conftest import _seed_teams, ideas_settings
from tests.reflection.conftest import ReflectionEnv
from tests.reflection.test_journal import complete, ready_as
from tests.support.servers import serve_in_thread


@pytest.fixture
def ideas_database(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ideas.db'}"
    upgrade(IDEAS_MIGRATIONS, url)
    asyncio.run(_seed_teams(url))
    return url


@pytest.fixture
def ideas_url(platform: PlatformSettings, ideas_database: str) -> Iterator[str]:
    with serve_in_thread(create_ideas(ideas_settings(platform, ideas_database))) as url:
        yield url


@pytest.fixture
def reflection_overrides(ideas_url: str) -> dict[str, Any]:
    return {"ideas_url": ideas_url}


async def _ideas_count(url: str) -> int:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            return int((await connection.execute(text("SELECT count(*) FROM ideas"))).scalar_one())
    finally:
        await database.dispose()


async def test_a_crash_between_the_idea_and_the_link_then_a_retry_makes_one_idea(
    reflection: ReflectionEnv, ideas_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = await ready_as(reflection, "ann")
    done = await complete(reflection, ann)
    url = f"/v1/reflections/{done['id']}/ideas"

    create = IdeasClient.create
    crashes: list[Any] = []

    async def crash_after_the_ideas_call(self: IdeasClient, *args: Any) -> Any:
        draft = await create(self, *args)
        if not crashes:
            crashes.append(draft.idea_id)
            raise RuntimeError("the process died before the link was committed")
        return draft

    monkeypatch.setattr(IdeasClient, "create", crash_after_the_ideas_call)
    try:
        first = await reflection.client.post(url, json={"action": 0}, headers=ann)
        assert first.status_code == 500
    except RuntimeError:
        pass  # the transport re-raised the crash: the same thing, seen from the client
    assert crashes and await _ideas_count(ideas_database) == 1
    state = (await reflection.client.get(f"/v1/reflections/{done['id']}", headers=ann)).json()
    assert state["ideas"] == []  # the link never committed

    retry = await reflection.client.post(url, json={"action": 0}, headers=ann)
    assert retry.status_code in (200, 201), retry.text
    assert retry.json()["idea_id"] == str(crashes[0])
    assert await _ideas_count(ideas_database) == 1
    # Retried with other words (a title of its own): still the first idea, still one.
    titled = await reflection.client.post(
        url, json={"action": 0, "title": "Storingen binnen een kwartier melden"}, headers=ann
    )
    assert titled.json()["idea_id"] == str(crashes[0]) and titled.json()["created"] is False
    state = (await reflection.client.get(f"/v1/reflections/{done['id']}", headers=ann)).json()
    assert state["ideas"] == [{"action": 0, "idea_id": str(crashes[0])}]
    assert await _ideas_count(ideas_database) == 1


async def test_concurrent_drafts_of_one_action_make_one_idea_and_one_link(
    reflection: ReflectionEnv, ideas_database: str
) -> None:
    ann = await ready_as(reflection, "ann")
    done = await complete(reflection, ann)
    url = f"/v1/reflections/{done['id']}/ideas"
    replies = await asyncio.gather(
        *(reflection.client.post(url, json={"action": 0}, headers=ann) for _ in range(3))
    )
    assert all(r.status_code in (200, 201) for r in replies), [r.text for r in replies]
    assert len({r.json()["idea_id"] for r in replies}) == 1
    assert await _ideas_count(ideas_database) == 1
    state = (await reflection.client.get(f"/v1/reflections/{done['id']}", headers=ann)).json()
    assert len(state["ideas"]) == 1
