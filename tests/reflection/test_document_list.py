"""`GET /v1/documents` pages with kit/cursors.py tokens: every page, item cursor and next cursor
resumes exactly after its item, and a cursor the list did not hand out — an old document-id
cursor included — answers the 400 `invalid_parameter` a malformed cursor always answered."""

from __future__ import annotations

from typing import Any

import pytest

from kit.cursors import KeysetCursor
from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv


async def _uploaded(reflection: ReflectionEnv, count: int) -> list[str]:
    """The ids of `count` new documents, in list order (by id); admins list them before ingestion."""
    ids = []
    for n in range(count):
        accepted = await reflection.upload(f"{FAULT_PROCEDURE}\n\nVersie {n}.", title=f"Doc {n}")
        ids.append(accepted["document"]["id"])
    return sorted(ids)


async def _page(reflection: ReflectionEnv, **params: Any) -> dict[str, Any]:
    response = await reflection.client.get("/v1/documents", params=params, headers=reflection.admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_pages_follow_next_cursor_to_the_end_without_skipping(
    reflection: ReflectionEnv,
) -> None:
    ids = await _uploaded(reflection, 5)
    seen: list[str] = []
    page = await _page(reflection, limit=2)
    while True:
        seen += [d["id"] for d in page["items"]]
        assert len(page["cursors"]) == len(page["items"])
        if page["next_cursor"] is None:
            break
        assert page["next_cursor"] == page["cursors"][-1]
        page = await _page(reflection, limit=2, cursor=page["next_cursor"])
    assert seen == ids
    assert len(page["items"]) == 1


async def test_each_item_cursor_resumes_after_its_item(reflection: ReflectionEnv) -> None:
    ids = await _uploaded(reflection, 4)
    first = await _page(reflection, limit=4)
    assert first["next_cursor"] is None
    for position, cursor in enumerate(first["cursors"]):
        rest = await _page(reflection, cursor=cursor)
        assert [d["id"] for d in rest["items"]] == ids[position + 1 :]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "",
        "00000000-0000-0000-0000-00000000000g",
        KeysetCursor().encode(("not an id",)),
        KeysetCursor().encode(("00000000-0000-0000-0000-000000000001", 2)),
        "x" * 300,
    ],
)
async def test_a_cursor_the_list_did_not_hand_out_is_400_invalid_parameter(
    reflection: ReflectionEnv, cursor: str
) -> None:
    response = await reflection.client.get(
        "/v1/documents", params={"cursor": cursor}, headers=reflection.admin
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (400, "invalid_parameter")
    assert error["message"] == "invalid parameter: cursor"
    assert [(d["location"], d["parameter"]) for d in error["details"]] == [
        (["query", "cursor"], "cursor")
    ]


async def test_an_old_document_id_cursor_is_refused_like_any_bad_cursor(
    reflection: ReflectionEnv,
) -> None:
    # Before kit/cursors.py the cursor was a document id; page tokens live a page, not a release.
    (old,) = await _uploaded(reflection, 1)
    response = await reflection.client.get(
        "/v1/documents", params={"cursor": old}, headers=reflection.admin
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_parameter")
