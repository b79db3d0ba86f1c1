"""Listing: filters, search, sort orders and cursors that never skip or repeat an idea."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ideas.conftest import IdeasEnv


async def _all_pages(ideas: IdeasEnv, query: str, person: str = "bob") -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = await ideas.client.get(f"/v1/ideas?{query}{suffix}", headers=ideas.as_(person))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


@pytest.mark.parametrize("sort", ["newest", "most_supported", "recently_updated"])
async def test_cursor_pages_cover_everything_once_in_order(ideas: IdeasEnv, sort: str) -> None:
    created = [await ideas.create(title=f"Idee nummer {i}", submit=True) for i in range(13)]
    for i, idea in enumerate(created[:6]):  # give some ideas support, with ties
        for supporter in [f"s{j}" for j in range(i % 3)]:
            await ideas.client.put(f"/v1/ideas/{idea['id']}/support", headers=ideas.as_(supporter))
    seen = await _all_pages(ideas, f"sort={sort}&limit=4")
    assert sorted(i["id"] for i in seen) == sorted(i["id"] for i in created)
    assert len(seen) == 13
    key = {
        "newest": "created_at",
        "most_supported": "support_count",
        "recently_updated": "updated_at",
    }[sort]
    values = [i[key] for i in seen]
    assert values == sorted(values, reverse=True)


async def test_filters(ideas: IdeasEnv) -> None:
    a = await ideas.create(title="Palletwikkelaar storing", tags=["storing"], submit=True)
    b = await ideas.create(
        person="bob",
        title="Routeplanning vrachtwagens",
        team="logistics",
        tags=["planning"],
        submit=True,
    )
    c = await ideas.create(title="Nog een concept", tags=["storing"])  # alice's draft
    await ideas.move(a["id"], "in_review", "carla")

    async def ids(query: str, person: str = "alice") -> set[str]:
        return {i["id"] for i in await _all_pages(ideas, query, person)}

    assert await ids("team=logistics") == {b["id"]}
    assert await ids("tag=storing") == {a["id"], c["id"]}
    assert await ids("tag=storing", person="bob") == {a["id"]}  # alice's draft is hers alone
    assert await ids("status=in_review") == {a["id"]}
    assert await ids("status=in_review&status=submitted") == {a["id"], b["id"]}
    assert await ids("mine=true") == {a["id"], c["id"]}
    assert await ids("mine=true", person="bob") == {b["id"]}
    assert await ids(f"id={a['id']}&id={b['id']}") == {a["id"], b["id"]}


async def test_search_matches_all_words_across_fields_ignoring_case_and_accents(
    ideas: IdeasEnv,
) -> None:
    hit = await ideas.create(
        title="Café-pauze verschuiven",
        problem="Tijdens de pauze staat de INPAKLIJN stil.",
        proposal="Pauzes in twee ploegen.",
        submit=True,
    )
    await ideas.create(title="Iets anders", problem="Heftruck batterij", submit=True)
    for q in ("cafe", "inpaklijn pauze", "PLOEGEN", "café"):
        found = await _all_pages(ideas, f"q={q}")
        assert [i["id"] for i in found] == [hit["id"]], q
    assert await _all_pages(ideas, "q=inpaklijn heftruck") == []
    assert await _all_pages(ideas, "q=100%25") == []  # a literal % matches nothing


async def test_page_size_cap_and_cursor_of_another_sort(ideas: IdeasEnv) -> None:
    for i in range(3):
        await ideas.create(title=f"Idee {i} titel", submit=True)
    page = (await ideas.client.get("/v1/ideas?limit=2", headers=ideas.as_("bob"))).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    wrong = await ideas.client.get(
        f"/v1/ideas?limit=2&sort=most_supported&cursor={page['next_cursor']}",
        headers=ideas.as_("bob"),
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_cursor")
    assert wrong.json()["error"]["details"][0]["parameter"] == "cursor"
    full = await ideas.client.get("/v1/ideas?limit=100", headers=ideas.as_("bob"))
    assert full.status_code == 200
