"""Every move between every pair of statuses, by every kind of person.

The expectations are written out here, independently of services/ideas/service/workflow.py:
the author submits and withdraws, a coach of the idea's team reviews (a public reason to reject or
park), an admin may make any move that exists, nobody makes a move that does not exist.
"""

from __future__ import annotations

import pytest

from tests.ideas.conftest import IdeasEnv

STATUSES = [
    "draft", "submitted", "in_review", "accepted", "piloting",
    "implemented", "rejected", "parked", "withdrawn",
]  # fmt: skip
AUTHOR, COACH = "author", "coach"
REVIEWING = ["submitted", "in_review", "accepted", "piloting"]
ALLOWED: dict[tuple[str, str], str] = {
    ("draft", "submitted"): AUTHOR,
    ("draft", "withdrawn"): AUTHOR,
    ("submitted", "in_review"): COACH,
    ("in_review", "accepted"): COACH,
    ("accepted", "piloting"): COACH,
    ("piloting", "implemented"): COACH,
    ("parked", "in_review"): COACH,
    ("parked", "withdrawn"): AUTHOR,
    **{(state, "rejected"): COACH for state in REVIEWING},
    **{(state, "parked"): COACH for state in REVIEWING},
    **{(state, "withdrawn"): AUTHOR for state in REVIEWING},
}
NEEDS_REASON = {"rejected", "parked"}

# who acts: (person, is the author, is a coach of the idea's team, is admin)
ACTORS = {
    "author": "alice",
    "team_coach": "carla",
    "other_team_coach": "dirk",
    "colleague": "bob",
    "admin": "root",
}


def expected(source: str, target: str, actor: str) -> int:
    if source == "draft" and actor != "author":
        return 404  # nobody but the author sees a draft
    needed = ALLOWED.get((source, target))
    if needed is None:
        return 409
    if actor == "admin":
        return 200
    if needed == AUTHOR:
        return 200 if actor == "author" else 403
    return 200 if actor == "team_coach" else 403


async def _idea_in(ideas: IdeasEnv, status: str) -> str:
    idea = await ideas.create()
    from sqlalchemy import text

    from kit.db import Database

    database = Database(ideas.database_url)
    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE ideas SET status = :s WHERE id = :i"),
            {
                "s": status,
                "i": idea["id"].replace("-", "") if "sqlite" in ideas.database_url else idea["id"],
            },
        )
    await database.dispose()
    return str(idea["id"])


@pytest.mark.parametrize("actor", list(ACTORS))
async def test_transition_matrix(ideas: IdeasEnv, actor: str) -> None:
    failures = []
    for source in STATUSES:
        idea_id = await _idea_in(ideas, source)
        for target in STATUSES:
            want = expected(source, target, actor)
            reason = "Past niet in de planning van dit kwartaal" if target in NEEDS_REASON else None
            response = await ideas.move(idea_id, target, ACTORS[actor], reason)
            got = response.status_code
            if got != want:
                failures.append(
                    f"{source}->{target} by {actor}: want {want}, got {got} {response.text}"
                )
            if got == 200:
                idea_id = await _idea_in(ideas, source)  # the move happened: start afresh
            elif got in (403, 409):
                code = response.json()["error"]["code"]
                assert code == ("transition_forbidden" if got == 403 else "transition_not_allowed")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("target", sorted(NEEDS_REASON))
async def test_reject_and_park_need_a_public_reason(ideas: IdeasEnv, target: str) -> None:
    idea = await ideas.create(submit=True)
    for reason in (None, "   "):
        refused = await ideas.move(idea["id"], target, "carla", reason)
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "reason_required")
    done = await ideas.move(idea["id"], target, "carla", "Dubbel met idee 12")
    assert done.status_code == 200
    assert done.json()["status_reason"] == "Dubbel met idee 12"


async def test_a_coach_does_not_review_their_own_idea(ideas: IdeasEnv) -> None:
    idea = await ideas.create(person="carla", submit=True)
    own = await ideas.move(idea["id"], "in_review", "carla")
    assert (own.status_code, own.json()["error"]["code"]) == (403, "transition_forbidden")


async def test_history_is_complete_and_in_order(ideas: IdeasEnv) -> None:
    idea = await ideas.create(submit=True)
    await ideas.move(idea["id"], "in_review", "carla")
    await ideas.move(idea["id"], "parked", "carla", "Eerst de nieuwe lijn")
    await ideas.move(idea["id"], "in_review", "root")
    history = await ideas.client.get(
        f"/v1/ideas/{idea['id']}/transitions", headers=ideas.as_("bob")
    )
    steps = [
        (h["from_status"], h["to_status"], h["actor"]["subject"], h["reason"])
        for h in history.json()
    ]
    assert steps == [
        ("draft", "submitted", "alice", None),
        ("submitted", "in_review", "carla", None),
        ("in_review", "parked", "carla", "Eerst de nieuwe lijn"),
        ("parked", "in_review", "root", None),
    ]
    # Immutable: there is no route to change or delete history.
    for method in ("put", "patch", "delete"):
        response = await getattr(ideas.client, method)(
            f"/v1/ideas/{idea['id']}/transitions", headers=ideas.as_("root")
        )
        assert response.status_code == 405


async def test_each_transition_writes_one_statement_in_the_same_transaction(
    ideas: IdeasEnv,
) -> None:
    idea = await ideas.create(submit=True)
    await ideas.move(idea["id"], "in_review", "carla")
    refused = await ideas.move(idea["id"], "implemented", "carla")
    assert refused.status_code == 409
    verbs = await ideas.rows("SELECT payload FROM outbox ORDER BY created_at")
    import json

    names = [
        (json.loads(p) if isinstance(p, str) else p)["verb"]["display"]["en-US"] for (p,) in verbs
    ]
    assert names == ["created", "proposed", "reviewed"]


@pytest.mark.parametrize(
    "body",
    [
        {"to": "done"},
        {"to": ""},
        {},
        {"to": "accepted", "why": "x"},
        {"to": "parked", "reason": "x" * 1001},
    ],
)
async def test_bad_transition_requests_change_nothing(
    ideas: IdeasEnv, body: dict[str, str]
) -> None:
    idea = await ideas.create(submit=True)
    response = await ideas.client.post(
        f"/v1/ideas/{idea['id']}/transitions", json=body, headers=ideas.as_("carla")
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert await ideas.scalar("SELECT count(*) FROM idea_transitions") == 1  # the submit only
