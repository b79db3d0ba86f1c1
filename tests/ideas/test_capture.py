"""Capturing an idea, reading it back, changing it safely; bad input writes nothing."""

from __future__ import annotations

import uuid

import pytest

from tests.ideas.conftest import IdeasEnv


async def test_capture_as_draft_then_read(ideas: IdeasEnv) -> None:
    idea = await ideas.create(
        tags=["omstellen", "Lean"], expected_impact={"hours_saved_per_week": 3, "work_pressure": 1}
    )
    assert idea["status"] == "draft"
    assert idea["author"] == {"subject": "alice", "name": "alice"}
    assert idea["tags"] == ["lean", "omstellen"]
    assert idea["expected_impact"]["hours_saved_per_week"] == 3
    assert idea["following"] is True and idea["follower_count"] == 1
    got = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("alice"))
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    # A draft is its author's alone.
    other = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("bob"))
    assert (other.status_code, other.json()["error"]["code"]) == (404, "idea_not_found")


async def test_capture_and_submit_in_one_call(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    assert idea["status"] == "submitted"
    assert idea["submitted_at"] is not None
    seen = await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("bob"))
    assert seen.status_code == 200


async def test_update_needs_the_current_version(ideas: IdeasEnv) -> None:
    idea = await ideas.create()
    url = f"/v1/ideas/{idea['id']}"
    missing = await ideas.client.patch(
        url, json={"title": "Nieuwe titel"}, headers=ideas.as_("alice")
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (428, "if_match_required")

    ok = await ideas.client.patch(
        url, json={"title": "Nieuwe titel"}, headers={**ideas.as_("alice"), "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert ok.headers["ETag"] == '"2"'

    stale = await ideas.client.patch(
        url, json={"title": "Overschreven?"}, headers={**ideas.as_("alice"), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == {
        "code": "stale_version",
        "message": stale.json()["error"]["message"],
        "details": {"current_version": 2, "current_status": "draft"},
    }
    current = await ideas.client.get(url, headers=ideas.as_("alice"))
    assert current.json()["title"] == "Nieuwe titel"


async def test_only_the_author_edits_and_only_before_review(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    url = f"/v1/ideas/{idea['id']}"
    bob = await ideas.client.patch(
        url, json={"title": "Van Bob"}, headers={**ideas.as_("bob"), "If-Match": '"2"'}
    )
    assert (bob.status_code, bob.json()["error"]["code"]) == (403, "not_author")
    assert (await ideas.move(idea["id"], "in_review", "carla")).status_code == 200
    late = await ideas.client.patch(
        url, json={"title": "Te laat"}, headers={**ideas.as_("alice"), "If-Match": '"3"'}
    )
    assert (late.status_code, late.json()["error"]["code"]) == (409, "idea_not_editable")


async def test_realised_impact_once_piloting(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    early = await ideas.client.patch(
        f"/v1/ideas/{idea['id']}",
        json={"realized_impact": {"hours_saved_per_week": 2}},
        headers={**ideas.as_("carla"), "If-Match": '"2"'},
    )
    assert (early.status_code, early.json()["error"]["code"]) == (409, "impact_not_recordable")
    for step in ("in_review", "accepted", "piloting"):
        assert (await ideas.move(idea["id"], step, "carla")).status_code == 200
    version = (
        await ideas.client.get(f"/v1/ideas/{idea['id']}", headers=ideas.as_("carla"))
    ).json()["version"]
    recorded = await ideas.client.patch(
        f"/v1/ideas/{idea['id']}",
        json={
            "realized_impact": {
                "hours_saved_per_week": 2.5,
                "wellbeing": 2,
                "safety": 1,
                "notes": "minder tillen",
            }
        },
        headers={**ideas.as_("carla"), "If-Match": f'"{version}"'},
    )
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["realized_impact"]["wellbeing"] == 2


BAD_BODIES = [
    ({"title": ""}, "validation_error"),
    ({"title": "ab"}, "validation_error"),
    ({"title": "x" * 201}, "validation_error"),
    ({"problem": ""}, "validation_error"),
    ({"problem": "x" * 5001}, "validation_error"),
    ({"team": "nonexistent"}, "unknown_team"),
    ({"favourite_colour": "blue"}, "validation_error"),
    ({"tags": ["has space"]}, "validation_error"),
    ({"tags": [f"t{i}" for i in range(11)]}, "validation_error"),
    ({"reflection_ids": ["not-a-uuid"]}, "validation_error"),
    ({"expected_impact": {"wellbeing": 3}}, "validation_error"),
    ({"expected_impact": {"hours_saved_per_week": -1}}, "validation_error"),
    ({"expected_impact": {"surprise": 1}}, "validation_error"),
    ({"anonymous": "maybe"}, "validation_error"),
]


@pytest.mark.parametrize(("override", "code"), BAD_BODIES)
async def test_bad_input_is_refused_and_nothing_is_written(
    ideas: IdeasEnv, override: dict[str, object], code: str
) -> None:
    body = {"title": "Een goede titel", "problem": "Iets", "team": "packaging", **override}
    response = await ideas.client.post("/v1/ideas", json=body, headers=ideas.as_("alice"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 0
    assert await ideas.scalar("SELECT count(*) FROM outbox") == 0


async def test_wrong_content_type_is_refused(ideas: IdeasEnv) -> None:
    response = await ideas.client.post(
        "/v1/ideas",
        content=b"title=x&problem=y&team=packaging",
        headers={**ideas.as_("alice"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] in {"validation_error", "unsupported_media_type"}
    assert await ideas.scalar("SELECT count(*) FROM ideas") == 0


@pytest.mark.parametrize(
    "query",
    ["limit=101", "limit=0", "status=done", "sort=random", "cursor=%%%", "id=nope"],
)
async def test_bad_list_parameters(ideas: IdeasEnv, query: str) -> None:
    response = await ideas.client.get(f"/v1/ideas?{query}", headers=ideas.as_("alice"))
    error = response.json()["error"]
    if query.startswith("cursor="):  # parsed by the domain code, which names its own code
        assert response.status_code == 400 and error["code"] == "invalid_cursor"
        return
    # A query parameter of the wrong type or range: 400 naming it (kit/errors.py).
    assert (response.status_code, error["code"]) == (400, "invalid_parameter"), response.text
    assert error["details"][0]["parameter"] == query.partition("=")[0]


async def test_malformed_and_unknown_ids(ideas: IdeasEnv) -> None:
    bad = await ideas.client.get("/v1/ideas/123", headers=ideas.as_("alice"))
    unknown = await ideas.client.get(f"/v1/ideas/{uuid.uuid4()}", headers=ideas.as_("alice"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_parameter")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "idea_not_found")


async def test_everything_needs_a_token(ideas: IdeasEnv) -> None:
    assert (await ideas.client.get("/v1/ideas")).status_code == 401
    assert (await ideas.client.post("/v1/ideas", json={})).status_code == 401


async def test_teams_are_managed_by_admins(ideas: IdeasEnv) -> None:
    denied = await ideas.client.put(
        "/v1/teams/kwaliteit", json={"name": "Kwaliteit"}, headers=ideas.as_("carla")
    )
    assert denied.status_code == 403
    made = await ideas.client.put(
        "/v1/teams/kwaliteit", json={"name": "Kwaliteit"}, headers=ideas.as_("root")
    )
    assert made.status_code == 200
    bad = await ideas.client.put("/v1/teams/Bad Key", json={"name": "x"}, headers=ideas.as_("root"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_parameter")
    teams = await ideas.client.get("/v1/teams", headers=ideas.as_("alice"))
    assert [t["key"] for t in teams.json()] == ["kwaliteit", "logistics", "packaging"]
