"""The comments list pages with opaque keyset cursors (kit/cursors.py): oldest first, every
comment once, resumable, and any cursor it did not hand out is one 400 naming `cursor`."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from kit.db import Database
from tests.ideas.conftest import IdeasEnv


def _token(payload: Any) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _payload(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


async def _comment(ideas: IdeasEnv, url: str, body: str) -> dict[str, Any]:
    made = await ideas.client.post(url, json={"body": body}, headers=ideas.as_("bob"))
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _all_pages(ideas: IdeasEnv, url: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = await ideas.client.get(f"{url}?limit={limit}{suffix}", headers=ideas.as_("alice"))
        assert page.status_code == 200, page.text
        pages.append([c["body"] for c in page.json()["items"]])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return pages


async def test_pages_cover_every_comment_once_oldest_first(ideas: IdeasEnv) -> None:
    _, url, _ = await ideas.commented("c0")
    for i in range(1, 7):
        await _comment(ideas, url, f"c{i}")
    pages = await _all_pages(ideas, url, 3)
    assert pages == [["c0", "c1", "c2"], ["c3", "c4", "c5"], ["c6"]]
    exact = await _all_pages(ideas, url, 7)
    assert exact == [[f"c{i}" for i in range(7)]]  # a full last page has no next cursor


async def test_comments_made_at_the_same_moment_page_by_id(ideas: IdeasEnv) -> None:
    _, url, _ = await ideas.commented("c0")
    for i in range(1, 5):
        await _comment(ideas, url, f"c{i}")
    database = Database(ideas.database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE idea_comments SET created_at = (SELECT min(created_at) FROM idea_comments)"
                )
            )
    finally:
        await database.dispose()
    pages = await _all_pages(ideas, url, 2)
    seen = [body for page in pages for body in page]
    assert sorted(seen) == [f"c{i}" for i in range(5)] and len(pages) == 3
    listed = await ideas.client.get(f"{url}?limit=100", headers=ideas.as_("alice"))
    ids = [c["id"] for c in listed.json()["items"]]
    assert ids == sorted(ids, key=uuid.UUID)


async def test_a_cursor_resumes_after_new_and_deleted_comments(ideas: IdeasEnv) -> None:
    _, url, _ = await ideas.commented("c0")
    second = await _comment(ideas, url, "c1")
    await _comment(ideas, url, "c2")
    page = (await ideas.client.get(f"{url}?limit=2", headers=ideas.as_("alice"))).json()
    assert [c["body"] for c in page["items"]] == ["c0", "c1"] and page["next_cursor"]
    await _comment(ideas, url, "c3")
    # the comment the cursor stands on is deleted: the position holds, nothing is skipped
    gone = await ideas.client.delete(
        f"{url}/{second['id']}", headers={**ideas.as_("bob"), "If-Match": '"1"'}
    )
    assert gone.status_code == 204
    rest = await ideas.client.get(
        f"{url}?limit=2&cursor={page['next_cursor']}", headers=ideas.as_("alice")
    )
    assert rest.status_code == 200, rest.text
    assert [c["body"] for c in rest.json()["items"]] == ["c2", "c3"]
    assert rest.json()["next_cursor"] is None


def _edits(good: str, other_idea: str, comment_id: str) -> dict[str, str]:
    of_idea, moment, last_id = _payload(good)
    naive = moment.removesuffix("+00:00")
    assert naive != moment, moment  # the list writes its moments in UTC, with the offset
    return {
        "not base64 JSON": "nope!",
        "empty": "",
        "an old comment-id cursor": comment_id,
        "a random id": str(uuid.uuid4()),
        "a moment without its offset": _token([of_idea, naive, last_id]),
        "a moment that is no moment": _token([of_idea, "gisteren", last_id]),
        "an id that is no id": _token([of_idea, moment, "c0"]),
        "a number for the id": _token([of_idea, moment, 7]),
        "too short": _token([moment, last_id]),
        "too long": _token([of_idea, moment, last_id, last_id]),
        "an object": _token({"after": last_id}),
        "NaN": base64.urlsafe_b64encode(b"[NaN]").decode(),
        "another idea's discussion": _token([other_idea, moment, last_id]),
        "over 500 characters": "A" * 501,
    }


# The cases, named once: `_edits` of any well-formed token has the same keys.
_SAMPLE = _token([str(uuid.uuid4()), "2026-11-30T12:00:00+00:00", str(uuid.uuid4())])
CASES = list(_edits(_SAMPLE, str(uuid.uuid4()), str(uuid.uuid4())))


@pytest.mark.parametrize("case", CASES)
async def test_a_cursor_it_did_not_hand_out_is_400_naming_cursor(
    ideas: IdeasEnv, case: str
) -> None:
    _, url, comment = await ideas.commented("c0")
    await _comment(ideas, url, "c1")
    other = await ideas.create(submit=True)
    page = (await ideas.client.get(f"{url}?limit=1", headers=ideas.as_("alice"))).json()
    bad = _edits(page["next_cursor"], other["id"], comment["id"])[case]
    answer = await ideas.client.get(f"{url}?cursor={bad}", headers=ideas.as_("alice"))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"][0]["parameter"] == "cursor"
    assert error["details"][0]["location"] == ["query", "cursor"]
