"""Support, follow and comments: idempotent, revocable, and counts that stay exact."""

from __future__ import annotations

import asyncio

import pytest

from tests.ideas.conftest import IdeasEnv


async def test_twenty_people_supporting_at_once_give_exactly_twenty(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/support"
    people = [f"worker{i:02d}" for i in range(20)]
    # Everyone at once, and everyone twice: duplicates must not count.
    calls = [ideas.client.put(url, headers=ideas.as_(p)) for p in people * 2]
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}, [
        r.text for r in responses if r.status_code != 200
    ]
    got = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("bob"))
    assert got.json()["support_count"] == 20
    assert await ideas.scalar("SELECT count(*) FROM idea_supports") == 20

    revoked = await asyncio.gather(
        *(ideas.client.delete(url, headers=ideas.as_(p)) for p in people[:7] * 2)
    )
    assert {r.status_code for r in revoked} == {200}
    got = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("bob"))
    assert got.json()["support_count"] == 13


async def test_support_is_idempotent_and_shown_to_the_supporter(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/support"
    first = await ideas.client.put(url, headers=ideas.as_("bob"))
    again = await ideas.client.put(url, headers=ideas.as_("bob"))
    assert first.json()["support_count"] == again.json()["support_count"] == 1
    assert again.json()["supported_by_me"] is True
    seen_by_carla = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("carla"))
    assert seen_by_carla.json()["supported_by_me"] is False
    # One statement for the one real support.
    assert (
        await ideas.scalar(
            "SELECT count(*) FROM outbox WHERE CAST(payload AS TEXT) LIKE '%voted-up%'"
        )
        == 1
    )


async def test_no_support_for_own_drafts_or_withdrawn(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    own = await ideas.client.put(f"/v1/ideas/{idea['id']}/support", headers=ideas.as_("alice"))
    assert (own.status_code, own.json()["error"]["code"]) == (409, "own_idea")
    await ideas.move(idea["id"], "withdrawn", "alice")
    closed = await ideas.client.put(f"/v1/ideas/{idea['id']}/support", headers=ideas.as_("bob"))
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "idea_not_open")


async def test_follow_and_unfollow(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/follow"
    await ideas.client.put(url, headers=ideas.as_("bob"))
    followed = await ideas.client.put(url, headers=ideas.as_("bob"))
    assert followed.json()["following"] is True and followed.json()["follower_count"] == 2
    mine = await ideas.client.get("/v1/ideas?following=true", headers=ideas.as_("bob"))
    assert [i["id"] for i in mine.json()["items"]] == [idea["id"]]
    unfollowed = await ideas.client.delete(url, headers=ideas.as_("bob"))
    assert unfollowed.json()["following"] is False and unfollowed.json()["follower_count"] == 1


async def test_comments_reply_one_level_and_count(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/comments"
    top = await ideas.client.post(url, json={"body": "Goed idee!"}, headers=ideas.as_("bob"))
    assert top.status_code == 201
    reply = await ideas.client.post(
        url, json={"body": "Eens.", "parent_id": top.json()["id"]}, headers=ideas.as_("carla")
    )
    assert reply.status_code == 201
    too_deep = await ideas.client.post(
        url,
        json={"body": "Nog dieper", "parent_id": reply.json()["id"]},
        headers=ideas.as_("alice"),
    )
    assert (too_deep.status_code, too_deep.json()["error"]["code"]) == (422, "reply_depth")
    listed = await ideas.client.get(url, headers=ideas.as_("alice"))
    assert [c["body"] for c in listed.json()["items"]] == ["Goed idee!", "Eens."]
    idea_now = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("alice"))
    assert idea_now.json()["comment_count"] == 2


async def test_comment_edit_and_soft_delete(ideas: IdeasEnv) -> None:
    idea, url, comment = await ideas.commented("Typfout")

    def seen(person: str, version: int) -> dict[str, str]:
        return {**ideas.as_(person), "If-Match": f'"{version}"'}

    assert comment["version"] == 1
    not_mine = await ideas.client.patch(
        f"{url}/{comment['id']}", json={"body": "x"}, headers=seen("alice", 1)
    )
    assert (not_mine.status_code, not_mine.json()["error"]["code"]) == (403, "not_comment_author")
    edited = await ideas.client.patch(
        f"{url}/{comment['id']}", json={"body": "Tikfout"}, headers=seen("bob", 1)
    )
    assert edited.json()["body"] == "Tikfout" and edited.json()["edited_at"] is not None
    assert (edited.json()["version"], edited.headers["ETag"]) == (2, '"2"')

    colleague = await ideas.client.delete(f"{url}/{comment['id']}", headers=seen("alice", 2))
    assert colleague.status_code == 403
    removed = await ideas.client.delete(f"{url}/{comment['id']}", headers=seen("carla", 2))
    assert removed.status_code == 204
    again = await ideas.client.delete(f"{url}/{comment['id']}", headers=seen("carla", 2))
    assert again.status_code == 204
    listed = (await ideas.client.get(url, headers=ideas.as_("alice"))).json()["items"]
    assert listed[0]["deleted"] is True and listed[0]["body"] is None
    count = (await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("alice"))).json()
    assert count["comment_count"] == 0
    gone = await ideas.client.patch(
        f"{url}/{comment['id']}", json={"body": "terug"}, headers=seen("bob", 3)
    )
    assert (gone.status_code, gone.json()["error"]["code"]) == (409, "comment_deleted")


@pytest.mark.parametrize("ideas_overrides", [{"comment_edit_window_minutes": 0}])
async def test_comment_edit_window_closes(ideas: IdeasEnv) -> None:
    _, url, comment = await ideas.commented("Eerste")
    late = await ideas.client.patch(
        f"{url}/{comment['id']}",
        json={"body": "Later"},
        headers={**ideas.as_("bob"), "If-Match": '"1"'},
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "edit_window_closed")


async def test_comment_bad_input(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}/comments"
    for body in (
        {"body": ""},
        {"body": "x" * 2001},
        {"body": "ok", "extra": 1},
        {"body": "ok", "parent_id": "nope"},
    ):
        response = await ideas.client.post(url, json=body, headers=ideas.as_("bob"))
        assert response.status_code == 422, body
    assert await ideas.scalar("SELECT count(*) FROM idea_comments") == 0
