"""Forty-plus malformed statements, each breaking a different rule of xAPI 1.0.3, each refused
with 400 and a reason naming the rule; nothing stored."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.support import lms, migrated_app
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import app_client

ACT = "https://werkvloer.example/activities/1"
AGENT = {"objectType": "Agent", "account": {"homePage": "https://werkvloer.example", "name": "a"}}


def put(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(s: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = s
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return apply


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(s: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = s
        for key in parents:
            node = node[key]
        del node[last]

    return apply


SUB = {"objectType": "SubStatement", "actor": AGENT, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}, "object": {"id": ACT}}  # fmt: skip
CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown top-level property", put("mood", "happy"), "unknown properties"),
    ("id is not a UUID", put("id", "1234"), "id must be a UUID"),
    ("actor missing", drop("actor"), "actor is required"),
    ("verb missing", drop("verb"), "verb is required"),
    ("object missing", drop("object"), "object is required"),
    ("actor not an object", put("actor", "alice"), "actor must be an object"),
    ("actor objectType unknown", put("actor.objectType", "Person"), "Agent or Group"),
    ("agent without identifier", put("actor", {"objectType": "Agent", "name": "a"}), "exactly one inverse functional identifier"),
    ("agent with two identifiers", put("actor.mbox", "mailto:a@example.org"), "exactly one inverse functional identifier"),
    ("mbox without mailto", put("actor", {"mbox": "a@example.org"}), "mailto"),
    ("mbox_sha1sum not hex", put("actor", {"mbox_sha1sum": "xyz"}), "40 hex digits"),
    ("openid not an IRI", put("actor", {"openid": "not an iri"}), "openid must be an absolute IRI"),
    ("account without name", put("actor", {"account": {"homePage": "https://x.example"}}), "homePage and name"),
    ("account homePage not an IRI", put("actor", {"account": {"homePage": "werkvloer", "name": "a"}}), "homePage must be an absolute IRI"),
    ("actor name not a string", put("actor.name", 42), "name must be a string"),
    ("anonymous group without members", put("actor", {"objectType": "Group"}), "lists its members"),
    ("group with a group member", put("actor", {"objectType": "Group", "member": [{"objectType": "Group", "member": [AGENT]}]}), "cannot be a Group member"),
    ("group with two identifiers", put("actor", {"objectType": "Group", "mbox": "mailto:g@x.org", "openid": "https://g.example"}), "at most one"),
    ("verb id not an IRI", put("verb.id", "commented"), "verb.id must be an absolute IRI"),
    ("verb display not a language map", put("verb.display", "commented"), "language map"),
    ("verb display bad language tag", put("verb.display", {"english!": "commented"}), "not a language tag"),
    ("verb unknown property", put("verb.extra", 1), "unknown properties"),
    ("object type unknown", put("object.objectType", "Thing"), "objectType must be one of"),
    ("activity without id", put("object", {"objectType": "Activity"}), "needs an id"),
    ("activity id not an IRI", put("object.id", "idea 1"), "object.id must be an absolute IRI"),
    ("activity name not a language map", put("object", {"id": ACT, "definition": {"name": "Idea"}}), "language map"),
    ("activity type not an IRI", put("object", {"id": ACT, "definition": {"type": "idea"}}), "definition.type must be an absolute IRI"),
    ("activity extension key not an IRI", put("object", {"id": ACT, "definition": {"extensions": {"team": "x"}}}), "absolute IRI"),
    ("StatementRef id not a UUID", put("object", {"objectType": "StatementRef", "id": "nope"}), "StatementRef must be a UUID"),
    ("SubStatement with an id", put("object", {**SUB, "id": str(uuid.uuid4())}), "SubStatement has no id"),
    ("nested SubStatement", put("object", {**SUB, "object": SUB}), "cannot contain a SubStatement"),
    ("score scaled above 1", put("result", {"score": {"scaled": 1.5}}), "between -1 and 1"),
    ("score raw above max", put("result", {"score": {"raw": 11, "min": 0, "max": 10}}), "raw must lie between"),
    ("score min not below max", put("result", {"score": {"min": 10, "max": 10}}), "min must be below max"),
    ("score not a number", put("result", {"score": {"raw": "ten"}}), "must be numbers"),
    ("success not a boolean", put("result", {"success": "yes"}), "true or false"),
    ("duration not ISO 8601", put("result", {"duration": "5 minutes"}), "ISO 8601 duration"),
    ("result unknown property", put("result", {"grade": "A"}), "unknown properties"),
    ("result extension key not an IRI", put("result", {"extensions": {"note": 1}}), "absolute IRI"),
    ("registration not a UUID", put("context", {"registration": "abc"}), "registration must be a UUID"),
    ("instructor not an agent", put("context", {"instructor": {"name": "x"}}), "inverse functional identifier"),
    ("revision on a non-activity", put("context", {"revision": "2"}) , "only when the object is an Activity"),
    ("context language bad tag", put("context", {"language": "dutch language"}), "language tag"),
    ("context statement not a ref", put("context", {"statement": {"id": str(uuid.uuid4())}}), "StatementRef"),
    ("context activities unknown type", put("context", {"contextActivities": {"family": [{"id": ACT}]}}), "not a context type"),
    ("context activity id not an IRI", put("context", {"contextActivities": {"parent": [{"id": "x"}]}}), "must be an absolute IRI"),
    ("context unknown property", put("context", {"mood": "ok"}), "unknown properties"),
    ("timestamp without zone", put("timestamp", "2026-11-27T10:00:00"), "time zone"),
    ("timestamp not a date", put("timestamp", "yesterday"), "ISO 8601 timestamp"),
    ("version unknown", put("version", "0.95"), "1.0.x or 2.0.x"),
    ("attachment without sha2", put("attachments", [{"usageType": ACT, "display": {"en": "x"}, "contentType": "text/plain", "length": 1}]), "needs sha2"),
]  # fmt: skip


@pytest.fixture
async def lrs(platform: PlatformSettings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = await migrated_app(platform, database_url)
    async with app_client(app) as client:
        client.headers.update(lms(platform))
        yield client


def test_there_are_at_least_forty_distinct_rules() -> None:
    assert len({name for name, _, _ in CASES}) == len(CASES) >= 40


async def test_each_broken_rule_is_400_with_its_reason(lrs: httpx.AsyncClient) -> None:
    failures = []
    for name, mutate, reason in CASES:
        body = copy.deepcopy(statement())
        if name == "revision on a non-activity":
            body["object"] = copy.deepcopy(AGENT)
        mutate(body)
        response = await lrs.post("/xapi/statements", json=body)
        if response.status_code != 400 or reason not in response.json()["error"]["message"]:
            failures.append(f"{name}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    stored = await lrs.get("/xapi/statements")
    assert stored.json()["statements"] == []


async def test_a_rich_valid_statement_is_accepted(lrs: httpx.AsyncClient) -> None:
    body = statement(
        result={
            "score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10},
            "success": True,
            "duration": "PT1H30M",
        },
        context={
            "registration": str(uuid.uuid4()),
            "platform": "Moodle",
            "language": "nl-NL",
            "contextActivities": {
                "parent": [{"id": ACT}],
                "category": {"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"},
            },
            "extensions": {"https://werkvloer.org/xapi/extensions/team": "packaging"},
        },
    )
    assert (await lrs.post("/xapi/statements", json=body)).status_code == 200
    group = statement(actor={"objectType": "Group", "member": [AGENT]}, object={**SUB})
    assert (await lrs.post("/xapi/statements", json=group)).status_code == 200
