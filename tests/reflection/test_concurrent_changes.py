"""Concurrent changes to one reflection (issue 12, hardening): a delete racing a share, an
unshare, an answer, a finish, an idea from an action, or a change of preferences never answers
5xx and never leaves a half-written row. The second writer gets 404 `reflection_not_found` (or
409); no share, stage or idea outlives the reflection it was made from.

Requests are sent together with asyncio.gather, several times, on SQLite and PostgreSQL; the
ideas service runs for real over HTTP. Race windows are widened only by yielding to the event
loop at the point the race used to hit, never by waiting for time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.reflection.journal import idea_drafts
from tests.reflection import test_idea_drafts as wired
from tests.reflection.conftest import ReflectionEnv
from tests.reflection.test_journal import NOW_WHAT, SO_WHAT, WHAT, complete, ready_as, start

TRIES = 4
# The ideas service runs for real over HTTP, wired in as test_idea_drafts.py does.
ideas_database, ideas_url = wired.ideas_database, wired.ideas_url
reflection_overrides = wired.reflection_overrides
_ideas_count = wired._ideas_count


async def _together(*calls: Any) -> list[httpx.Response]:
    """Send the requests at the same moment; an exception raised through the transport (an
    unhandled server error) fails the test like a 5xx would."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        assert not isinstance(result, BaseException), f"server error: {result!r}"
    return list(results)  # type: ignore[arg-type]


async def _rows(database_url: str, sql: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def _orphans(database_url: str) -> int:
    """Shares and stages whose reflection is gone (a foreign key would refuse them on commit;
    counted anyway, so a future schema without one still keeps the invariant)."""
    shares = await _rows(
        database_url,
        "SELECT count(*) FROM reflection_shares s "
        "WHERE NOT EXISTS (SELECT 1 FROM reflections r WHERE r.id = s.reflection_id)",
    )
    turns = await _rows(
        database_url,
        "SELECT count(*) FROM reflection_turns t "
        "WHERE NOT EXISTS (SELECT 1 FROM reflections r WHERE r.id = t.reflection_id)",
    )
    return shares + turns


async def _new(reflection: ReflectionEnv, headers: dict[str, str]) -> str:
    """The URL of a new reflection of the worker with `headers`."""
    return f"/v1/reflections/{(await start(reflection, headers))['id']}"


async def _while_deleted(
    reflection: ReflectionEnv, url: str, headers: dict[str, str], change: Any
) -> list[httpx.Response]:
    """[the delete's answer, `change`'s answer], the two sent at the same moment."""
    return await _together(reflection.client.delete(url, headers=headers), change)


def _gone_or_done(response: httpx.Response, done: tuple[int, ...]) -> None:
    assert response.status_code < 500, response.text
    if response.status_code in done:
        return
    assert response.status_code in (404, 409), response.text
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "reflection_not_found"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PUT", "/share", {}),
        ("PUT", "/share", {"teams": ["packaging"]}),
        ("DELETE", "/share", None),
    ],
)
async def test_sharing_or_unsharing_while_the_reflection_is_deleted(
    reflection: ReflectionEnv, method: str, path: str, body: dict[str, Any] | None
) -> None:
    ann = reflection.as_("ann")
    for _ in range(TRIES):
        url = await _new(reflection, ann)
        change = reflection.client.request(method, url + path, json=body, headers=ann)
        deleted, changed = await _while_deleted(reflection, url, ann, change)
        assert deleted.status_code == 204, deleted.text
        _gone_or_done(changed, (200,))
        assert (await reflection.client.get(url, headers=ann)).status_code == 404
    assert await _orphans(reflection.database_url) == 0


async def test_answering_and_finishing_while_the_reflection_is_deleted(
    reflection: ReflectionEnv,
) -> None:
    ann = await ready_as(reflection, "ann")
    for _ in range(TRIES):
        url = await _new(reflection, ann)
        answer = {"stage": "what", "answer": WHAT}
        change = reflection.client.post(url + "/answers", json=answer, headers=ann)
        deleted, answered = await _while_deleted(reflection, url, ann, change)
        assert deleted.status_code == 204, deleted.text
        _gone_or_done(answered, (200,))

        url = await _new(reflection, ann)
        for stage, said in (("what", WHAT), ("so-what", SO_WHAT), ("now-what", NOW_WHAT)):
            answer = {"stage": stage, "answer": said}
            assert (
                await reflection.client.post(url + "/answers", json=answer, headers=ann)
            ).is_success
        change = reflection.client.post(url + "/finish", headers=ann)
        deleted, finished = await _while_deleted(reflection, url, ann, change)
        assert deleted.status_code == 204, deleted.text
        _gone_or_done(finished, (200,))
    assert await _orphans(reflection.database_url) == 0


async def test_two_deletes_and_a_change_of_preferences_at_once(reflection: ReflectionEnv) -> None:
    ann = reflection.as_("ann")
    for turn in range(TRIES):
        url = await _new(reflection, ann)
        choice = {"share_with_analytics": turn % 2 == 0}
        first, second, preferences, again = await _together(
            reflection.client.delete(url, headers=ann),
            reflection.client.delete(url, headers=ann),
            reflection.client.put("/v1/reflection-preferences", json=choice, headers=ann),
            reflection.client.put("/v1/reflection-preferences", json=choice, headers=ann),
        )
        assert sorted([first.status_code, second.status_code]) == [204, 404]
        assert preferences.status_code == again.status_code == 200, preferences.text
    assert await _rows(reflection.database_url, "SELECT count(*) FROM reflections") == 0


async def test_an_idea_from_an_action_while_the_reflection_is_deleted_leaves_no_idea(
    reflection: ReflectionEnv, ideas_database: str
) -> None:
    """The example of the review: two creates and a delete at the same moment answered 204,
    404, 404 — and the author's idea count grew by one (PostgreSQL, 3 of 3)."""
    ann = await ready_as(reflection, "ann")
    for _ in range(TRIES):
        before = await _ideas_count(ideas_database)
        done = await complete(reflection, ann)
        url = f"/v1/reflections/{done['id']}"
        first, second, deleted = await _together(
            reflection.client.post(url + "/ideas", json={"action": 0}, headers=ann),
            reflection.client.post(url + "/ideas", json={"action": 0}, headers=ann),
            reflection.client.delete(url, headers=ann),
        )
        assert deleted.status_code == 204, deleted.text
        for reply in (first, second):
            _gone_or_done(reply, (200, 201))
        made = [r for r in (first, second) if r.status_code in (200, 201)]
        # An idea exists after the delete only if a caller was told it was made (it was, and
        # linked, before the delete): one at most, the same for both callers.
        assert await _ideas_count(ideas_database) - before == (1 if made else 0)
        assert len({r.json()["idea_id"] for r in made}) <= 1


async def test_a_delete_that_lands_between_the_idea_and_its_link_takes_the_draft_with_it(
    reflection: ReflectionEnv, ideas_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race made certain: the ideas service has made the draft, then the reflection is
    deleted before the link is written. The caller hears 404 and no draft is left."""
    ann = await ready_as(reflection, "ann")
    done = await complete(reflection, ann)
    url = f"/v1/reflections/{done['id']}"
    create = idea_drafts.IdeasClient.create

    async def delete_right_after_the_create(self: Any, *args: Any) -> Any:
        made = await create(self, *args)
        assert (await reflection.client.delete(url, headers=ann)).status_code == 204
        return made

    monkeypatch.setattr(idea_drafts.IdeasClient, "create", delete_right_after_the_create)
    reply = await reflection.client.post(url + "/ideas", json={"action": 0}, headers=ann)
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == "reflection_not_found"
    assert await _ideas_count(ideas_database) == 0


async def test_ideas_made_before_the_delete_stay_with_the_worker(
    reflection: ReflectionEnv, ideas_database: str
) -> None:
    """Decision (docs/guided-reflection.md): deleting a reflection deletes the reflection; an
    idea the worker already made from it is their own idea in the ideas service and stays."""
    ann = await ready_as(reflection, "ann")
    done = await complete(reflection, ann)
    url = f"/v1/reflections/{done['id']}"
    made = await reflection.client.post(url + "/ideas", json={"action": 0}, headers=ann)
    assert made.status_code == 201, made.text
    assert (await reflection.client.delete(url, headers=ann)).status_code == 204
    assert await _ideas_count(ideas_database) == 1
