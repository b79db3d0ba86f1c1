"""`DELETE /v1/ideas/{id}`: an author discards their own draft for good (the reflection service
does so when the reflection a draft came from was deleted while the draft was made). Only
drafts, only the author's, only at the version they read; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from tests.ideas.conftest import IdeasEnv


def _matching(ideas: IdeasEnv, person: str, version: int) -> dict[str, str]:
    return {**ideas.as_(person), "If-Match": f'"{version}"'}


async def test_the_author_discards_a_draft_and_it_is_gone_for_good(ideas: IdeasEnv) -> None:
    draft = await ideas.create()
    url = f"/v1/ideas/{draft['id']}"
    for person in ("bob", "root"):  # a draft is its author's only: nobody else learns of it
        refused = await ideas.client.delete(url, headers=_matching(ideas, person, 1))
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "idea_not_found"
    missing = await ideas.client.delete(url, headers=ideas.as_("alice"))
    assert missing.status_code == 428
    gone = await ideas.client.delete(url, headers=_matching(ideas, "alice", draft["version"]))
    assert gone.status_code == 204, gone.text
    assert (await ideas.client.get(url, headers=ideas.as_("alice"))).status_code == 404
    again = await ideas.client.delete(url, headers=_matching(ideas, "alice", draft["version"]))
    assert again.status_code == 404
    mine = await ideas.client.get("/v1/ideas?mine=true", headers=ideas.as_("alice"))
    assert mine.json()["items"] == []


async def test_a_submitted_or_changed_draft_is_not_discarded(ideas: IdeasEnv) -> None:
    draft = await ideas.create()
    url = f"/v1/ideas/{draft['id']}"
    edited = await ideas.client.patch(
        url, json={"title": "Mallen per formaat klaarzetten"}, headers=_matching(ideas, "alice", 1)
    )
    assert edited.status_code == 200, edited.text
    stale = await ideas.client.delete(url, headers=_matching(ideas, "alice", 1))
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "stale_version"
    assert (await ideas.move(draft["id"], "submitted", "alice")).status_code == 200
    submitted = await ideas.client.delete(url, headers=_matching(ideas, "alice", 3))
    assert submitted.status_code == 409 and submitted.json()["error"]["code"] == "idea_not_draft"
    assert (await ideas.client.get(url, headers=ideas.as_("bob"))).status_code == 200


async def test_a_discard_racing_a_submit_leaves_one_outcome(ideas: IdeasEnv) -> None:
    for _ in range(3):
        draft = await ideas.create()
        url = f"/v1/ideas/{draft['id']}"
        discarded, submitted = await asyncio.gather(
            ideas.client.delete(url, headers=_matching(ideas, "alice", 1)),
            ideas.move(draft["id"], "submitted", "alice", version=1),
        )
        outcome = sorted([discarded.status_code, submitted.status_code])
        assert outcome in ([200, 409], [200, 412], [204, 404]), [discarded.text, submitted.text]
        seen = await ideas.client.get(url, headers=ideas.as_("alice"))
        assert seen.status_code == (404 if discarded.status_code == 204 else 200)
