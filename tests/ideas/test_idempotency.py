"""Retries that duplicate (issue 12, #15): a create with an Idempotency-Key happens once.

Same key and body → the first result (200, same id, `Idempotent-Replayed: true`); same key and
another body → 422 `idempotency_key_reused`; keys are per caller; concurrent retries insert one
row (unique constraint), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.ideas.conftest import IdeasEnv

BODY = {"title": "Mallen klaarleggen", "problem": "Omstellen duurt lang", "team": "packaging"}


async def _post(
    ideas: IdeasEnv, key: str | bytes, body: dict[str, Any] = BODY, person: str = "alice"
) -> httpx.Response:
    headers = {k.encode(): v.encode() for k, v in ideas.as_(person).items()}
    headers[b"Idempotency-Key"] = key if isinstance(key, bytes) else key.encode()
    return await ideas.client.post("/v1/ideas", json=body, headers=headers)


async def test_a_retry_returns_the_first_idea(ideas: IdeasEnv) -> None:
    first = await _post(ideas, "reflection-1-action-0", {**BODY, "submit": True})
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = await _post(ideas, "reflection-1-action-0", {**BODY, "submit": True})
    assert again.status_code == 200, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 1
    assert await ideas.scalar("SELECT count(*) FROM idea_transitions") == 1
    assert await ideas.scalar("SELECT count(*) FROM outbox") == 2  # created, proposed: once


async def test_the_same_key_with_another_body_is_refused(ideas: IdeasEnv) -> None:
    first = await _post(ideas, "k-1")
    other = await _post(ideas, "k-1", {**BODY, "title": "Iets anders"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["details"] == {"id": first.json()["id"]}
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 1


async def test_keys_belong_to_their_caller(ideas: IdeasEnv) -> None:
    alice = await _post(ideas, "shared-key")
    bob = await _post(ideas, "shared-key", person="bob")
    assert (alice.status_code, bob.status_code) == (201, 201)
    assert alice.json()["id"] != bob.json()["id"]


async def test_concurrent_retries_make_one_idea(ideas: IdeasEnv) -> None:
    replies = await asyncio.gather(*(_post(ideas, "burst") for _ in range(5)))
    assert sorted(r.status_code for r in replies) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in replies}) == 1
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 1
    assert await ideas.scalar("SELECT count(*) FROM outbox") == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "met spatie", "caf\u00e9".encode()])
async def test_malformed_keys_are_refused(ideas: IdeasEnv, key: str | bytes) -> None:
    response = await _post(ideas, key)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("validation_error", "invalid_parameter")
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 0


async def test_a_comment_retry_returns_the_first_comment(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    other = await ideas.create(submit=True, title="Tweede idee")
    headers = {**ideas.as_("bob"), "Idempotency-Key": "comment-1"}
    url = f"/v1/ideas/{idea['id']}/comments"
    first = await ideas.client.post(url, json={"body": "Goed plan"}, headers=headers)
    again = await ideas.client.post(url, json={"body": "Goed plan"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    elsewhere = await ideas.client.post(
        f"/v1/ideas/{other['id']}/comments", json={"body": "Goed plan"}, headers=headers
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["error"]["code"] == "idempotency_key_reused"
    assert await ideas.scalar("SELECT count(*) FROM idea_comments") == 1


async def test_erasure_keeps_keys_from_colliding(ideas: IdeasEnv) -> None:
    """Erased authors share one id; their keys are dropped so erasing two people works."""
    for person in ("alice", "bob"):
        made = await _post(ideas, "same", {**BODY, "submit": True}, person=person)
        assert made.status_code == 201
        erased = await ideas.client.delete("/v1/my-data", headers=ideas.as_(person))
        assert erased.status_code == 200, erased.text
    assert await ideas.scalar("SELECT count(*) FROM ideas WHERE idempotency_key IS NULL") == 2
