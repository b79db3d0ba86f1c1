"""Writes whose rule depends on the idea's state are decided atomically with that state.

The example from issue 12: alice withdraws her idea while seven colleagues support it at the
same moment. All used to get 200, the idea ended `withdrawn` with seven supports and seven
`supported` events, though docs/ideas.md refuses support on a withdrawn idea (409
`idea_not_open`). Now each support either landed before the withdrawal (counted, one event)
or gets 409 — on SQLite and PostgreSQL, over several rounds.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from kit.db import Database
from kit.errors import Conflict
from services.ideas.repository.ideas import IdeasRepository
from tests.ideas.conftest import IdeasEnv

ROUNDS = 6
COLLEAGUES = [f"colleague{n}" for n in range(7)]


async def _supported_events(ideas: IdeasEnv, idea_id: str) -> int:
    return int(
        await ideas.scalar(
            "SELECT count(*) FROM outbox WHERE CAST(payload AS TEXT) LIKE '%voted-up%' "
            "AND CAST(payload AS TEXT) LIKE :idea",
            idea=f"%{idea_id}%",
        )
    )


async def test_support_racing_a_withdrawal_never_lands_on_the_withdrawn_idea(
    ideas: IdeasEnv,
) -> None:
    for _ in range(ROUNDS):
        idea = await ideas.create(submit=True)
        idea_id = str(idea["id"])
        withdraw, *supports = await asyncio.gather(
            ideas.move(idea_id, "withdrawn", "alice", version=int(idea["version"])),
            *(
                ideas.client.put(f"/v1/ideas/{idea_id}/support", headers=ideas.as_(who))
                for who in COLLEAGUES
            ),
        )
        assert withdraw.status_code == 200, withdraw.text
        landed = [s for s in supports if s.status_code == 200]
        for refused in (s for s in supports if s.status_code != 200):
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "idea_not_open"
        # a support that got 200 was recorded while the idea was still open
        assert all(s.json()["status"] == "submitted" for s in landed), [s.text for s in landed]
        stored = await ideas.client.get(f"/v1/ideas/{idea_id}", headers=ideas.as_("bob"))
        assert stored.json()["status"] == "withdrawn"
        assert stored.json()["support_count"] == len(landed)
        rows = await ideas.scalar(
            "SELECT count(*) FROM idea_supports WHERE idea_id = :id", id=ideas.db_id(idea_id)
        )
        assert rows == len(landed)
        assert await _supported_events(ideas, idea_id) == len(landed)
        late = await ideas.client.put(f"/v1/ideas/{idea_id}/support", headers=ideas.as_("bob"))
        assert (late.status_code, late.json()["error"]["code"]) == (409, "idea_not_open")


async def test_the_counter_refuses_a_support_on_an_idea_that_is_no_longer_open(
    ideas: IdeasEnv,
) -> None:
    """The repository's own guard: the counter update is conditional on the status, so even a
    caller that read the idea before it was withdrawn cannot record a support on it."""
    idea = await ideas.create(submit=True)
    withdrawn = await ideas.move(str(idea["id"]), "withdrawn", "alice")
    assert withdrawn.status_code == 200
    database = Database(ideas.database_url)
    try:
        async with database.sessions() as session:
            with pytest.raises(Conflict) as refused:
                await IdeasRepository(session).add_support(uuid.UUID(str(idea["id"])), "bob")
            assert refused.value.code == "idea_not_open"
            await session.rollback()
    finally:
        await database.dispose()
    assert await ideas.scalar("SELECT count(*) FROM idea_supports") == 0


async def test_follow_and_comment_racing_a_discard_are_404_or_cleaned_up(
    ideas: IdeasEnv,
) -> None:
    """A draft discarded while its author follows or comments on it: each write either lands
    first (and is deleted with the draft) or finds it gone (404) — never a 500 or an orphan."""
    for _ in range(ROUNDS):
        draft = await ideas.create()
        idea_id = str(draft["id"])
        url = f"/v1/ideas/{idea_id}"
        headers = {**ideas.as_("alice"), "If-Match": f'"{draft["version"]}"'}
        results: tuple[httpx.Response, ...] = await asyncio.gather(
            ideas.client.delete(url, headers=headers),
            ideas.client.delete(f"{url}/follow", headers=ideas.as_("alice")),
            ideas.client.put(f"{url}/follow", headers=ideas.as_("alice")),
            ideas.client.post(
                f"{url}/comments", json={"body": "Nog even nadenken"}, headers=ideas.as_("alice")
            ),
        )
        discard, *writes = results
        assert discard.status_code == 204, discard.text
        for write in writes:
            assert write.status_code in (200, 201, 404), write.text
        for table in ("idea_follows", "idea_comments", "idea_supports"):
            orphans = await ideas.scalar(
                f"SELECT count(*) FROM {table} WHERE idea_id = :id",  # noqa: S608 - fixed names
                id=ideas.db_id(idea_id),
            )
            assert orphans == 0, table
