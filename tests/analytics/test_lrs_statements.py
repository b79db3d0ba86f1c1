"""The statements resource the relay relies on: idempotent on id, 409 on changed content,
400 (not 422) for malformed input, the version header everywhere."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.support import V
from tests.support.apps import bearer


def statement(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://werkvloer.example", "name": "alice"},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/commented",
            "display": {"en-US": "commented"},
        },
        "object": {"objectType": "Activity", "id": "https://werkvloer.example/ideas/1"},
        "timestamp": "2026-11-27T10:00:00+00:00",
    }
    body.update(overrides)
    return body


async def test_store_and_read_back_with_stamps(lrs: httpx.AsyncClient) -> None:
    s = statement()
    posted = await lrs.post("/xapi/statements", json=s)
    assert posted.status_code == 200 and posted.json() == [s["id"]]
    assert posted.headers["X-Experience-API-Version"] == "1.0.3"
    got = await lrs.get("/xapi/statements", params={"statementId": s["id"]})
    body = got.json()
    assert (
        body["verb"] == s["verb"]
        and body["stored"]
        and body["authority"]["account"]["name"] == "lms-1"
    )


async def test_same_id_same_content_is_a_no_op_other_content_is_409(lrs: httpx.AsyncClient) -> None:
    s = statement()
    for _ in range(3):
        assert (await lrs.post("/xapi/statements", json=[s])).status_code == 200
    changed = {**s, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}
    conflict = await lrs.post("/xapi/statements", json=changed)
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "statement_conflict")
    put = await lrs.put("/xapi/statements", params={"statementId": s["id"]}, json=s)
    assert put.status_code == 204


async def test_a_batch_is_all_or_nothing(lrs: httpx.AsyncClient) -> None:
    good = statement()
    bad = statement(actor={"objectType": "Agent", "mbox": "alice@example.org"})
    refused = await lrs.post("/xapi/statements", json=[good, bad])
    assert refused.status_code == 400
    assert (
        await lrs.get("/xapi/statements", params={"statementId": good["id"]})
    ).status_code == 404


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda s: s.pop("actor"), "actor"),
        (lambda s: s.pop("verb"), "verb"),
        (lambda s: s.update(id="not-a-uuid"), "id"),
        (lambda s: s.update(actor={"objectType": "Agent", "mbox": "alice@example.org"}), "mbox"),
        (lambda s: s.update(actor={"objectType": "Agent"}), "inverse functional identifier"),
        (lambda s: s.update(timestamp="2026-11-27T10:00:00"), "time zone"),
        (lambda s: s.update(timestamp="yesterday"), "timestamp"),
        (lambda s: s.update(surprise=1), "surprise"),
    ],
)
async def test_malformed_statements_are_400_with_the_rule(
    lrs: httpx.AsyncClient, mutate: Any, rule: str
) -> None:
    s = statement()
    mutate(s)
    response = await lrs.post("/xapi/statements", json=s)
    assert response.status_code == 400, response.text
    assert rule in response.text


async def test_version_header_and_auth(lrs: httpx.AsyncClient, platform: PlatformSettings) -> None:
    missing = await lrs.post(
        "/xapi/statements", json=statement(), headers={"X-Experience-API-Version": ""}
    )
    assert missing.status_code == 400
    unknown = await lrs.post(
        "/xapi/statements", json=statement(), headers={"X-Experience-API-Version": "0.9"}
    )
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "version_unsupported")
    worker = await lrs.post(
        "/xapi/statements", json=statement(), headers=bearer(platform, "bob", "worker")
    )
    assert worker.status_code == 403
    not_json = await lrs.post(
        "/xapi/statements", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert (await lrs.get("/xapi/about")).json()["version"][-1] == "2.0.0"


async def test_query_filters_and_more_paging(lrs: httpx.AsyncClient) -> None:
    bob = {
        "objectType": "Agent",
        "account": {"homePage": "https://werkvloer.example", "name": "bob"},
    }
    registration = str(uuid.uuid4())
    mine = [statement(context={"registration": registration}) for _ in range(7)]
    other = [
        statement(actor=bob, verb={"id": "http://adlnet.gov/expapi/verbs/completed"})
        for _ in range(3)
    ]
    assert (await lrs.post("/xapi/statements", json=mine + other)).status_code == 200

    page = await lrs.get("/xapi/statements", params={"limit": 3})
    assert page.headers["X-Experience-API-Consistent-Through"]
    seen = [s["id"] for s in page.json()["statements"]]
    more = page.json()["more"]
    while more:
        nxt = await lrs.get(more)
        seen += [s["id"] for s in nxt.json()["statements"]]
        more = nxt.json()["more"]
    assert sorted(seen) == sorted(s["id"] for s in mine + other) and len(seen) == 10

    by_agent = await lrs.get("/xapi/statements", params={"agent": json.dumps(bob)})
    assert {s["id"] for s in by_agent.json()["statements"]} == {s["id"] for s in other}
    by_verb = await lrs.get(
        "/xapi/statements", params={"verb": "http://adlnet.gov/expapi/verbs/completed"}
    )
    assert len(by_verb.json()["statements"]) == 3
    by_registration = await lrs.get("/xapi/statements", params={"registration": registration})
    assert len(by_registration.json()["statements"]) == 7
    ascending = await lrs.get("/xapi/statements", params={"ascending": "true", "limit": 10})
    stored = [s["stored"] for s in ascending.json()["statements"]]
    assert stored == sorted(stored)
    bad = await lrs.get("/xapi/statements", params={"more": "garbage"})
    assert bad.status_code == 400


async def test_voiding_hides_the_target(lrs: httpx.AsyncClient) -> None:
    target = statement()
    await lrs.post("/xapi/statements", json=target)
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": target["id"]},
    )
    assert (await lrs.post("/xapi/statements", json=voiding)).status_code == 200
    gone = await lrs.get("/xapi/statements", params={"statementId": target["id"]})
    assert gone.status_code == 404
    found = await lrs.get("/xapi/statements", params={"voidedStatementId": target["id"]})
    assert found.json()["id"] == target["id"]
    listed = await lrs.get("/xapi/statements")
    assert target["id"] not in {s["id"] for s in listed.json()["statements"]}
    void_the_void = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": voiding["id"]},
    )
    assert (await lrs.post("/xapi/statements", json=void_the_void)).status_code == 400
    missing = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": str(uuid.uuid4())},
    )
    assert (await lrs.post("/xapi/statements", json=missing)).status_code == 400


async def test_lrs_clients_authenticate_with_basic_and_can_be_revoked(
    lrs: httpx.AsyncClient, platform: PlatformSettings, database_url: str
) -> None:
    admin = bearer(platform, "root", "admin")
    made = await lrs.post("/v1/lrs-clients", json={"name": "Moodle"}, headers=admin)
    assert made.status_code == 201
    key, secret = made.json()["key"], made.json()["secret"]
    basic = httpx.BasicAuth(key, secret)
    posted = await lrs.post(
        "/xapi/statements", json=statement(), headers={"Authorization": ""}, auth=basic
    )
    assert posted.status_code == 200, posted.text

    wrong = await lrs.post(
        "/xapi/statements",
        json=statement(),
        headers={"Authorization": ""},
        auth=httpx.BasicAuth(key, "guess"),
    )
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Basic")
    listed = await lrs.get("/v1/lrs-clients", headers=admin)
    assert listed.json() == [
        {"key": key, "name": "Moodle", "active": True, "scope": "own", "secret": None}
    ]
    # The secret is not stored, only its scrypt hash.
    from sqlalchemy import text

    from kit.db import Database

    database = Database(database_url)
    async with database.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT secret_hash FROM lrs_clients"))).scalar()
    await database.dispose()
    assert secret not in stored and stored.startswith("scrypt$")

    assert (await lrs.delete(f"/v1/lrs-clients/{key}", headers=admin)).status_code == 204
    revoked = await lrs.post(
        "/xapi/statements", json=statement(), headers={"Authorization": ""}, auth=basic
    )
    assert revoked.status_code == 401
    worker = await lrs.post(
        "/v1/lrs-clients", json={"name": "x"}, headers=bearer(platform, "bob", "worker")
    )
    assert worker.status_code == 403


async def test_related_agents_and_activities_and_ids_format(lrs: httpx.AsyncClient) -> None:
    coach = {
        "objectType": "Agent",
        "account": {"homePage": "https://werkvloer.example", "name": "carla"},
    }
    course = "https://lms.example/courses/safety"
    taught = statement(
        context={"instructor": coach, "contextActivities": {"parent": [{"id": course}]}},
        object={
            "objectType": "Activity",
            "id": "https://lms.example/lessons/1",
            "definition": {"name": {"nl": "Les 1"}},
        },
    )
    unrelated = statement()
    assert (await lrs.post("/xapi/statements", json=[taught, unrelated])).status_code == 200

    direct = await lrs.get("/xapi/statements", params={"agent": json.dumps(coach)})
    assert direct.json()["statements"] == []
    related = await lrs.get(
        "/xapi/statements", params={"agent": json.dumps(coach), "related_agents": "true"}
    )
    assert [s["id"] for s in related.json()["statements"]] == [taught["id"]]

    by_course = await lrs.get("/xapi/statements", params={"activity": course})
    assert by_course.json()["statements"] == []
    related_course = await lrs.get(
        "/xapi/statements", params={"activity": course, "related_activities": "true"}
    )
    assert [s["id"] for s in related_course.json()["statements"]] == [taught["id"]]

    ids = await lrs.get(
        "/xapi/statements",
        params={"format": "ids", "activity": course, "related_activities": "true"},
    )
    only = ids.json()["statements"][0]
    assert "definition" not in only["object"] and "display" not in only["verb"]
    assert (await lrs.get("/xapi/statements", params={"format": "pretty"})).status_code == 400


async def test_an_lrs_client_reads_only_what_it_wrote(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    mine = statement()
    assert (await lrs.post("/xapi/statements", json=mine)).status_code == 200
    other = {**bearer(platform, "hr-system", "lrs-client"), **V}
    theirs = statement()
    assert (await lrs.post("/xapi/statements", json=theirs, headers=other)).status_code == 200

    listed = await lrs.get("/xapi/statements", headers=other)
    assert [s["id"] for s in listed.json()["statements"]] == [theirs["id"]]
    by_id = await lrs.get("/xapi/statements", params={"statementId": mine["id"]}, headers=other)
    assert by_id.status_code == 404
    admin = {**bearer(platform, "root", "admin"), **V}
    everything = await lrs.get("/xapi/statements", headers=admin)
    assert {s["id"] for s in everything.json()["statements"]} == {mine["id"], theirs["id"]}
