"""Export and erasure of one person's data across the three services, through the gateway,
over real HTTP between OS processes — then every row of every database is searched for them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_ideas_graphql import SUBMIT, Client
from tests.e2e.test_reflection_graphql import ANSWER, ANSWERS, FINISH, START, _data
from tests.support import http
from tests.support.databases import columns_mentioning
from tests.support.platform import Platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

EXPORT = "{ exportMyData }"
ERASE = "mutation { eraseMyData { complete services { service erased details } } }"
COMMENT = """mutation($id: ID!, $body: String!) { commentOnIdea(ideaId: $id, body: $body) {
  __typename } }"""
SUPPORT = "mutation($id: ID!) { supportIdea(id: $id) { __typename } }"
MY_LEARNING = "{ myLearning { totals informalShare statements } }"


def _rows_naming(var_dir: Path, needle: str) -> list[str]:
    """Every database:table.column under var/ whose stored text contains the needle."""
    found = []
    for database in sorted(var_dir.glob("*.db")):
        url = f"sqlite+aiosqlite:///{database}"
        found += [f"{database.name}:{c}" for c in asyncio.run(columns_mentioning(url, needle))]
    return found


def _statements(platform: Platform, subject: str) -> list[dict[str, Any]]:
    admin = Client(platform, "lrs-admin", "admin", "")
    agent = (
        '{"objectType": "Agent", "account": {"homePage": "http://localhost:8000", '
        f'"name": "{subject}"}}}}'
    )
    response = http.get(
        f"{platform.urls['analytics']}/xapi/statements",
        params={"agent": agent, "related_agents": "true"},
        headers={**admin.headers, "X-Experience-API-Version": "1.0.3"},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["statements"])


def test_export_then_erase_leaves_no_row_that_names_the_person(
    platform_processes: Platform,
) -> None:
    platform = platform_processes
    subject = f"erin-{uuid.uuid4().hex[:10]}"
    root = Client(platform, "root", "admin", "")
    http.put(
        f"{platform.urls['ideas']}/v1/teams/packaging", json={"name": "Inpak"}, headers=root.headers
    )
    erin = Client(platform, subject, "worker", "packaging")
    other = Client(platform, "oscar", "worker", "packaging")

    idea = {
        "title": "Tweede weegschaal bij lijn 2",
        "problem": "Wachten op de weegschaal.",
        "team": "packaging",
    }
    submitted = _data(erin(SUBMIT, input=idea), "submitIdea")
    draft = _data(
        erin(SUBMIT, input={**idea, "title": "Nog een concept", "draft": True}), "submitIdea"
    )
    theirs = _data(other(SUBMIT, input={**idea, "title": "Koffie bij de lijn"}), "submitIdea")
    assert (
        _data(erin(COMMENT, id=theirs["id"], body="Goed plan, ik help mee."), "commentOnIdea")[
            "__typename"
        ]
        == "Comment"
    )
    assert _data(erin(SUPPORT, id=theirs["id"]), "supportIdea")["__typename"] == "Idea"
    rid = _data(
        erin(START, input={"experience": "De weegschaal bij lijn 2 gaf steeds een fout."}),
        "startReflection",
    )["id"]
    for stage in ("what", "so-what", "now-what"):
        _data(erin(ANSWER, id=rid, stage=stage, answer=ANSWERS[stage]), "answerReflection")
    _data(erin(FINISH, id=rid), "finishReflection")
    # An LMS reports a course the person passed, with them also as an instructor elsewhere.
    lms = {
        **Client(platform, "lms-1", "lrs-client", "").headers,
        "X-Experience-API-Version": "1.0.3",
    }
    me = {"objectType": "Agent", "account": {"homePage": "http://localhost:8000", "name": subject}}
    course = {"objectType": "Activity", "id": "https://lms.example/courses/weegschaal"}
    passed = {
        "actor": me,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
        "object": course,
    }
    taught = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example", "name": "x"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": course,
        "context": {"instructor": me},
    }
    stored = http.post(
        f"{platform.urls['analytics']}/xapi/statements", json=[passed, taught], headers=lms
    )
    assert stored.status_code == 200, stored.text

    def arrived() -> bool:  # both outbox relays deliver in the background
        ids = [str(st["object"].get("id")) for st in _statements(platform, subject)]
        return any(f"/reflections/{rid}" in i for i in ids) and any("/ideas/" in i for i in ids)

    wait_until(arrived, "the reflection's and the idea's statements reaching the LRS", interval=0.3)

    learning = _data(erin(MY_LEARNING), "myLearning")
    assert learning["totals"].get("reflection") == 1, learning
    assert learning["totals"]["formal_passed"] == 1

    exported = _data(erin(EXPORT), "exportMyData")
    assert {i["id"] for i in exported["ideas"]["ideas"]} == {submitted["id"], draft["id"]}
    assert exported["ideas"]["comments"][0]["body"] == "Goed plan, ik help mee."
    assert [r["id"] for r in exported["reflection"]["reflections"]] == [rid]
    assert len(exported["analytics"]["statements"]) == len(_statements(platform, subject))

    var_dir = Path(platform.env["WERKVLOER_VAR_DIR"])
    assert _rows_naming(var_dir, subject), "the person is in the databases before erasure"

    platform.stop("analytics")
    try:
        partial = _data(erin(ERASE), "eraseMyData")
    finally:
        platform.start("analytics")
    assert partial["complete"] is False
    assert {s["service"]: s["erased"] for s in partial["services"]} == {
        "ideas": True, "reflection": True, "analytics": False,
    }  # fmt: skip

    report = _data(erin(ERASE), "eraseMyData")
    assert report["complete"] is True
    assert _rows_naming(var_dir, subject) == []
    assert _statements(platform, subject) == []

    theirs_now = _data(
        other("query($id: ID!) { idea(id: $id) { supportCount commentCount } }", id=theirs["id"]),
        "idea",
    )
    assert theirs_now == {"supportCount": 0, "commentCount": 0}
    kept = _data(
        root(
            "query($id: ID!) { idea(id: $id) { title author { subject } anonymous } }",
            id=submitted["id"],
        ),
        "idea",
    )
    assert kept == {"title": idea["title"], "author": None, "anonymous": True}
    assert _data(root("query($id: ID!) { idea(id: $id) { id } }", id=draft["id"]), "idea") is None
