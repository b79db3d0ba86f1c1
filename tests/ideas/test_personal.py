"""Export and erasure in the ideas service, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.ideas.conftest import IdeasEnv
from tests.support.databases import columns_mentioning

ZOE = "zoe-7q3"


async def test_erasure_deletes_drafts_anonymises_ideas_and_scrubs_every_mention(
    ideas: IdeasEnv,
) -> None:
    client = ideas.client
    zoe = ideas.as_(ZOE, "worker", "packaging")
    draft = await ideas.create(ZOE)
    submitted = await ideas.create(ZOE, title="Mallen op een kar", submit=True)
    bobs = await ideas.create("bob", title="Koffie bij de lijn", submit=True)
    comment = await client.post(
        f"/v1/ideas/{bobs['id']}/comments", json={"body": "Goed idee!"}, headers=zoe
    )
    assert comment.status_code == 201, comment.text
    reply = await client.post(
        f"/v1/ideas/{bobs['id']}/comments",
        json={"body": "Dank je", "parent_id": comment.json()["id"]},
        headers=ideas.as_("bob"),
    )
    assert reply.status_code == 201
    assert (await client.put(f"/v1/ideas/{bobs['id']}/support", headers=zoe)).status_code == 200
    assert (await client.put(f"/v1/ideas/{bobs['id']}/follow", headers=zoe)).status_code == 200

    exported = (await client.get("/v1/my-data", headers=zoe)).json()
    assert {i["id"] for i in exported["ideas"]} == {draft["id"], submitted["id"]}
    assert exported["supported"] == [bobs["id"]] and bobs["id"] in exported["following"]
    assert await columns_mentioning(ideas.database_url, ZOE)

    report = (await client.delete("/v1/my-data", headers=zoe)).json()
    assert report["drafts_deleted"] == 1 and report["ideas_anonymised"] == 1
    assert report["supports_removed"] == 1 and report["comments_erased"] == 1
    assert await columns_mentioning(ideas.database_url, ZOE) == []
    again = (await client.delete("/v1/my-data", headers=zoe)).json()
    assert again["drafts_deleted"] == 0 and again["ideas_anonymised"] == 0

    admin = ideas.as_("root", "admin", "")
    assert (await client.get(f"/v1/ideas/{draft['id']}", headers=admin)).status_code == 404
    kept = (await client.get(f"/v1/ideas/{submitted['id']}", headers=admin)).json()
    assert kept["author"] is None and kept["anonymous"] is True
    theirs = (await client.get(f"/v1/ideas/{bobs['id']}", headers=admin)).json()
    assert theirs["support_count"] == 0 and theirs["follower_count"] == 1, "bob follows his own"
    assert theirs["comment_count"] == 1, "bob's reply stays; zoe's comment is gone"
