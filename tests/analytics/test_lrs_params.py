"""Issue 12 item 11: every query parameter of the LRS is checked for type and range before use;
a bad one is 400 naming it (never a 500 from a naive or overflowing timestamp)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

from kit.settings import PlatformSettings
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import bearer


def refused(reply: httpx.Response, name: str) -> None:
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] in ("invalid_request", "invalid_text"), error
    assert name in error["message"], error
    assert any(d["location"][-1] == name for d in error["details"]), error


@pytest.fixture
async def stored(lrs: httpx.AsyncClient) -> dict[str, Any]:
    """One statement, already stored through the LRS."""
    s = statement()
    await lrs.post("/xapi/statements", json=s)
    return s


TIMESTAMPS = [
    "2015-01-01T00:00:00.0000000",  # no zone
    "2015-01-01",  # a date, no zone
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:30:00-01:00",  # after year 9999 in UTC
    "yesterday",
    "",
]


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", TIMESTAMPS)
async def test_timestamps_without_zone_or_out_of_range_are_400(
    lrs: httpx.AsyncClient, name: str, value: str
) -> None:
    refused(await lrs.get("/xapi/statements", params={name: value}), name)


async def test_good_timestamps_filter(lrs: httpx.AsyncClient, stored: dict[str, Any]) -> None:
    s = stored
    since = await lrs.get("/xapi/statements", params={"since": "2015-01-01T00:00:00.0000000Z"})
    assert [x["id"] for x in since.json()["statements"]] == [s["id"]]
    until = await lrs.get("/xapi/statements", params={"until": "2015-01-01T00:00:00+01:00"})
    assert until.json()["statements"] == []
    edge = await lrs.get("/xapi/statements", params={"since": "0001-01-01T00:00:00Z"})
    assert edge.status_code == 200


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "-1"),
        ("limit", "ten"),
        ("limit", "1e3"),
        ("limit", str(2**40)),
        ("format", "pretty"),
        ("ascending", "maybe"),
        ("attachments", "maybe"),
        ("related_agents", "2"),
        ("related_activities", "yes please"),
        ("verb", "completed"),
        ("verb", "http://x.example/" + "v" * 2000),
        ("activity", "not an iri"),
        ("agent", "{oops"),
        ("agent", "[]"),
        ("agent", '{"name": "no identifier"}'),
        ("agent", '{"mbox": "alice@example.org"}'),
        ("registration", "nope"),
        ("statementId", "nope"),
        ("voidedStatementId", "12"),
        ("more", "garbage"),
    ],
)
async def test_each_parameter_is_checked_and_named(
    lrs: httpx.AsyncClient, name: str, value: str
) -> None:
    refused(await lrs.get("/xapi/statements", params={name: value}), name)


async def test_a_single_statement_takes_no_filters(
    lrs: httpx.AsyncClient, stored: dict[str, Any]
) -> None:
    s = stored
    both = await lrs.get(
        "/xapi/statements", params={"statementId": s["id"], "voidedStatementId": s["id"]}
    )
    refused(both, "voidedStatementId")
    filtered = await lrs.get("/xapi/statements", params={"statementId": s["id"], "verb": "x:y"})
    refused(filtered, "verb")
    fine = await lrs.get(
        "/xapi/statements", params={"statementId": s["id"], "format": "ids", "attachments": "false"}
    )
    assert fine.status_code == 200


async def test_an_edited_more_token_is_checked_like_fresh_parameters(
    lrs: httpx.AsyncClient,
) -> None:
    await lrs.post("/xapi/statements", json=[statement() for _ in range(3)])
    page = await lrs.get("/xapi/statements", params={"limit": 1})
    token = page.json()["more"].split("more=")[1]
    state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for field, value in (
        ("since", "2015-01-01T00:00:00"),
        ("until", "0001-01-01T00:00:00+01:00"),
        ("agent", {"name": "\u0000", "mbox": "mailto:a@x.nl"}),
        ("limit", -5),
    ):
        edited = {**state, "q": {**state["q"], field: value}}
        raw = base64.urlsafe_b64encode(json.dumps(edited).encode()).decode().rstrip("=")
        refused(await lrs.get("/xapi/statements", params={"more": raw}), "more")
    naive_after = {**state, "after": ["2026-01-01T00:00:00", str(uuid.uuid4())]}
    raw = base64.urlsafe_b64encode(json.dumps(naive_after).encode()).decode().rstrip("=")
    refused(await lrs.get("/xapi/statements", params={"more": raw}), "more")


async def test_put_needs_a_uuid_statement_id(lrs: httpx.AsyncClient) -> None:
    for value in ("nope", "", str(uuid.uuid4()) + "x"):
        refused(
            await lrs.put("/xapi/statements", params={"statementId": value}, json=statement()),
            "statementId",
        )


async def test_lrs_client_routes_check_their_parameters(
    lrs: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    admin = bearer(platform, "root", "admin")
    for key in ("lrs_zz", "x" * 300, "lrs_0000000000000000/../x"):
        reply = await lrs.delete(f"/v1/lrs-clients/{key}", headers=admin)
        assert 400 <= reply.status_code < 500, (key, reply.status_code)
    nul = await lrs.delete("/v1/lrs-clients/lrs_%00", headers=admin)
    assert 400 <= nul.status_code < 500
    unknown = await lrs.delete("/v1/lrs-clients/lrs_0000000000000000", headers=admin)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "lrs_client_not_found")
    for name in ("", "\u200b\u200b", "a\u0000", "\u2800\u2800", "\u3164\u3164"):
        made = await lrs.post("/v1/lrs-clients", json={"name": name}, headers=admin)
        assert made.status_code in (400, 422), (name, made.text)
