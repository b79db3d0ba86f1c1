"""Duplicates surfaced at capture: lexical always, semantic through the reflection service."""

from __future__ import annotations

from typing import Any

from tests.ideas.conftest import IdeasEnv

EXISTING = [
    (
        "Kortere omsteltijd inpaklijn",
        "Het wisselen van doosformaat kost elke keer twintig minuten.",
        "Leg de mallen per formaat klaar op een kar naast de lijn.",
    ),
    (
        "Laadstation heftrucks verplaatsen",
        "De heftrucks staan lang in de rij bij het enige laadpunt.",
        "Een tweede laadpunt bij dock 4.",
    ),
    (
        "Labelprinter loopt vast",
        "Elke ochtend loopt de labelprinter vast door vocht in de rollen.",
        "Rollen droog bewaren in een kast.",
    ),
    (
        "Safety briefing at shift start",
        "Forklift drivers skip the checklist when they are in a hurry.",
        "Make the checklist part of the app login.",
    ),
]


async def _seed(ideas: IdeasEnv) -> dict[str, str]:
    ids = {}
    for title, problem, proposal in EXISTING:
        idea = await ideas.create(
            person="bob", title=title, problem=problem, proposal=proposal, submit=True
        )
        ids[title] = idea["id"]
    return ids


async def _similar(ideas: IdeasEnv, text: str, **extra: Any) -> dict[str, Any]:
    response = await ideas.client.post(
        "/v1/ideas/similar", json={"text": text, **extra}, headers=ideas.as_("alice")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_lexical_duplicates_without_the_reflection_service(ideas: IdeasEnv) -> None:
    ids = await _seed(ideas)
    result = await _similar(ideas, "De labelprinters lopen vast in de ochtend")
    assert result["semantic"] is False
    assert result["items"][0]["id"] == ids["Labelprinter loopt vast"]
    assert result["items"][0]["matched_by"] == ["lexical"]
    nothing = await _similar(ideas, "koffieautomaat is leeg")
    assert nothing["items"] == []


async def test_drafts_of_others_and_withdrawn_ideas_are_not_offered(ideas: IdeasEnv) -> None:
    await ideas.create(
        person="bob", title="Labelprinter vervangen", problem="De labelprinter loopt vast"
    )
    result = await _similar(ideas, "labelprinter loopt vast")
    assert result["items"] == []


async def test_bad_similar_requests(ideas: IdeasEnv) -> None:
    for body in (
        {"text": "ab"},
        {"text": "x" * 5001},
        {"text": "goed", "limit": 21},
        {"text": "goed", "x": 1},
    ):
        response = await ideas.client.post(
            "/v1/ideas/similar", json=body, headers=ideas.as_("alice")
        )
        assert response.status_code == 422, body
