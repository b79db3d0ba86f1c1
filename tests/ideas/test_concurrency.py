"""Lost updates: every change carries the version the caller saw; of two writers, one wins.

The example from issue 12 (#14): two coaches decide on the same idea in review at the same
moment, one `accepted`, one `parked`. Both used to get 200 and the history read
in_review → accepted → parked. Now exactly one gets 200, the other 409 `transition_conflict`
with the current state, and the history shows one move — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlmodel import select

from kit.db import Database
from services.ideas.fields import Status
from services.ideas.models import Idea
from services.ideas.repository.ideas import IdeasRepository
from tests.ideas.conftest import IdeasEnv

TRIES = 5


async def _in_review(ideas: IdeasEnv) -> dict[str, object]:
    idea = await ideas.create(submit=True)
    reviewed = await ideas.move(str(idea["id"]), "in_review", "carla")
    assert reviewed.status_code == 200, reviewed.text
    return dict(reviewed.json())


async def test_two_coaches_deciding_at_once_cannot_both_win(ideas: IdeasEnv) -> None:
    for _ in range(TRIES):
        idea = await _in_review(ideas)
        idea_id, seen = str(idea["id"]), int(str(idea["version"]))
        accept, park = await asyncio.gather(
            ideas.move(idea_id, "accepted", "carla", version=seen),
            ideas.move(idea_id, "parked", "root", "Eerst de nieuwe lijn", version=seen),
        )
        statuses = sorted([accept.status_code, park.status_code])
        assert statuses == [200, 409], (accept.text, park.text)
        winner, loser = (accept, park) if accept.status_code == 200 else (park, accept)
        error = loser.json()["error"]
        assert error["code"] == "transition_conflict"
        assert error["details"]["current_status"] == winner.json()["status"]
        assert error["details"]["current_version"] == seen + 1
        history = await ideas.client.get(
            f"/v1/ideas/{idea_id}/transitions", headers=ideas.as_("bob")
        )
        after_review = [h for h in history.json() if h["from_status"] == "in_review"]
        assert len(after_review) == 1
        assert after_review[0]["to_status"] == winner.json()["status"]


async def test_a_decision_on_a_version_already_decided_is_refused(ideas: IdeasEnv) -> None:
    """The sequential form of the same race: the second coach decided on what they saw."""
    idea = await _in_review(ideas)
    idea_id, seen = str(idea["id"]), int(str(idea["version"]))
    accepted = await ideas.move(idea_id, "accepted", "carla", version=seen)
    assert accepted.status_code == 200 and accepted.headers["ETag"] == f'"{seen + 1}"'
    parked = await ideas.move(idea_id, "parked", "root", "Past niet", version=seen)
    assert parked.status_code == 409
    assert parked.json()["error"]["code"] == "transition_conflict"
    assert parked.json()["error"]["details"] == {
        "current_version": seen + 1,
        "current_status": "accepted",
        "status_reason": None,
        "to": "parked",
    }
    stored = await ideas.client.get(f"/v1/ideas/{idea_id}", headers=ideas.as_("bob"))
    assert stored.json()["status"] == "accepted"
    assert await ideas.scalar("SELECT count(*) FROM idea_transitions") == 3


async def test_a_transition_needs_if_match(ideas: IdeasEnv) -> None:
    idea = await _in_review(ideas)
    url = f"/v1/ideas/{idea['id']}/transitions"
    missing = await ideas.client.post(url, json={"to": "accepted"}, headers=ideas.as_("carla"))
    assert (missing.status_code, missing.json()["error"]["code"]) == (428, "if_match_required")
    version = idea["version"]
    for value in ("*", f'W/"{version}"', str(version), f'"{version}", "9"', '"-1"', '""'):
        bogus = await ideas.client.post(
            url, json={"to": "accepted"}, headers={**ideas.as_("carla"), "If-Match": value}
        )
        assert (bogus.status_code, bogus.json()["error"]["code"]) == (400, "invalid_if_match"), (
            value
        )
    assert await ideas.scalar("SELECT count(*) FROM idea_transitions") == 2
    assert await ideas.scalar("SELECT count(*) FROM outbox") == 3  # created, proposed, reviewed


async def test_etag_on_every_read_and_write_of_an_idea(ideas: IdeasEnv) -> None:
    made = await ideas.client.post(
        "/v1/ideas",
        json={"title": "Etiketten", "problem": "Scheef", "team": "packaging"},
        headers=ideas.as_("alice"),
    )
    assert made.headers["ETag"] == '"1"'
    url = f"/v1/ideas/{made.json()['id']}"
    read = await ideas.client.get(url, headers=ideas.as_("alice"))
    assert read.headers["ETag"] == '"1"'
    moved = await ideas.move(made.json()["id"], "submitted", "alice", version=1)
    assert moved.headers["ETag"] == '"2"' and moved.json()["version"] == 2


async def test_the_compare_and_set_is_atomic_in_the_database(ideas: IdeasEnv) -> None:
    """Two sessions that both read version v: whichever UPDATE runs second matches no row,
    whether it waited for the first one's lock or ran after its commit."""
    idea = await _in_review(ideas)
    idea_id, seen = uuid.UUID(str(idea["id"])), int(str(idea["version"]))
    database = Database(ideas.database_url)
    try:
        async with database.sessions() as first, database.sessions() as second:
            assert await IdeasRepository(first).move(
                idea_id, seen, Status.in_review, {"status": "accepted"}
            )
            late = asyncio.create_task(
                IdeasRepository(second).move(idea_id, seen, Status.in_review, {"status": "parked"})
            )
            await first.commit()
            assert await late is False
            await second.commit()
        async with database.sessions() as check:
            stored = (await check.exec(select(Idea).where(Idea.id == idea_id))).one()
            assert (stored.status, stored.version) == ("accepted", seen + 1)
    finally:
        await database.dispose()


async def test_concurrent_edits_of_realised_impact_one_wins(ideas: IdeasEnv) -> None:
    idea = await _in_review(ideas)
    idea_id = str(idea["id"])
    for to in ("accepted", "piloting"):
        assert (await ideas.move(idea_id, to, "carla")).status_code == 200
    seen = await ideas.version_of(idea_id)
    url = f"/v1/ideas/{idea_id}"

    async def patch(person: str, hours: int) -> httpx.Response:
        return await ideas.client.patch(
            url,
            json={"realized_impact": {"hours_saved_per_week": hours}},
            headers={**ideas.as_(person), "If-Match": f'"{seen}"'},
        )

    author, coach = await asyncio.gather(patch("alice", 3), patch("carla", 5))
    assert sorted([author.status_code, coach.status_code]) == [200, 412]
    loser = author if author.status_code == 412 else coach
    assert loser.json()["error"]["details"]["current_version"] == seen + 1


async def test_comment_edit_and_delete_carry_the_version(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/comments"
    made = await ideas.client.post(url, json={"body": "Eerste versie"}, headers=ideas.as_("bob"))
    assert made.headers["ETag"] == '"1"'
    comment = f"{url}/{made.json()['id']}"
    for method in ("patch", "delete"):
        kwargs = {"json": {"body": "x"}} if method == "patch" else {}
        missing = await getattr(ideas.client, method)(comment, headers=ideas.as_("bob"), **kwargs)
        assert (missing.status_code, missing.json()["error"]["code"]) == (428, "if_match_required")

    # The author rewrites while a coach deletes what they read: one of them wins.
    edit, delete = await asyncio.gather(
        ideas.client.patch(
            comment, json={"body": "Tweede"}, headers={**ideas.as_("bob"), "If-Match": '"1"'}
        ),
        ideas.client.delete(comment, headers={**ideas.as_("carla"), "If-Match": '"1"'}),
    )
    if edit.status_code == 200:  # the coach deleted a text they never saw: refused
        assert (delete.status_code, delete.json()["error"]["code"]) == (412, "stale_version")
        assert delete.json()["error"]["details"] == {"current_version": 2, "deleted": False}
        listed = (await ideas.client.get(url, headers=ideas.as_("bob"))).json()["items"]
        assert listed[0]["body"] == "Tweede" and listed[0]["version"] == 2
    else:  # deleted first: the edit finds nothing to edit
        assert delete.status_code == 204
        assert edit.status_code == 409 and edit.json()["error"]["code"] == "comment_deleted"
    stale = await ideas.client.patch(
        comment, json={"body": "Derde"}, headers={**ideas.as_("bob"), "If-Match": '"1"'}
    )
    assert stale.status_code in (409, 412)
