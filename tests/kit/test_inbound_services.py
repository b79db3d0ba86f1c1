"""The inbound rules in the real processes (issue 12 items 1, 10, 11), with the issue's examples:
an idea title holding NUL on SQLite and PostgreSQL, `GET /v1/ideas?tag=a%00b`, a GraphQL
variable or string literal holding NUL, and the gateway's `/xapi` pass-through refusing every
path that is not an xAPI resource without calling the learning record store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kit.db import Database
from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.ideas.app import MIGRATIONS, create_app
from tests.ideas.conftest import _seed_teams, ideas_settings
from tests.kit.test_inbound import call
from tests.support.apps import app_client, bearer

DEAD = "http://127.0.0.1:9"
IDEA = {"title": "Kortere omsteltijd", "problem": "Het wisselen duurt lang.", "team": "packaging"}


async def count_ideas(database_url: str) -> int:
    from sqlalchemy import text

    database = Database(database_url)
    async with database.engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM ideas"))
    await database.dispose()
    return int(count)


@pytest.fixture
async def ideas(platform: PlatformSettings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    await _seed_teams(database_url)
    async with app_client(create_app(ideas_settings(platform, database_url))) as client:
        client.headers.update(bearer(platform, "alice", "worker", "packaging"))
        yield client


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\uDC00"])
async def test_an_idea_title_with_bad_text_is_refused_and_nothing_stored(
    ideas: httpx.AsyncClient, database_url: str, escape: str
) -> None:
    raw = json.dumps(IDEA).replace("Kortere", f"Kort{escape}ere").encode()
    response = await ideas.post(
        "/v1/ideas", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_text" and error["details"][0]["field"] == "body.title"
    assert await count_ideas(database_url) == 0
    made = await ideas.post("/v1/ideas", json=IDEA)
    assert made.status_code == 201  # the same request without the bad character is fine


async def test_a_tag_filter_with_nul_is_refused(ideas: httpx.AsyncClient) -> None:
    for query in ("tag=a%00b", "q=%ED%A0%80", "tag=%FF"):
        response = await ideas.get(f"/v1/ideas?{query}")
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_text"
        assert error["details"][0]["parameter"] == query.partition("=")[0]


async def test_a_bad_list_parameter_is_400_naming_it(ideas: httpx.AsyncClient) -> None:
    response = await ideas.get("/v1/ideas?limit=1000")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_parameter"
    assert response.json()["error"]["details"][0]["parameter"] == "limit"


@pytest.fixture
async def gateway(platform: PlatformSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A gateway whose services are unreachable: everything here is refused before a call."""
    settings = GatewaySettings(
        platform=platform, ideas_url=DEAD, reflection_url=DEAD, analytics_url=DEAD
    )
    app = create_gateway(settings)
    async with app_client(app) as client:
        yield app, client


SUBMIT = "mutation($input: SubmitIdeaInput!) { submitIdea(input: $input) { __typename } }"


def _graphql_refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_TEXT"
    return dict(error)


async def test_a_graphql_variable_with_nul_is_invalid_text(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, client = gateway
    variables = json.dumps({"input": {**IDEA, "title": "Kort\u0000ere"}})
    response = await client.post(
        "/graphql",
        content=f'{{"query": {json.dumps(SUBMIT)}, "variables": {variables}}}'.encode(),
        headers={**bearer(platform), "Content-Type": "application/json"},
    )
    error = _graphql_refusal(response)
    assert error["extensions"]["field"] == "body.variables.input.title"
    # The same over GET, with the variables in the query string.
    got = await client.get(
        "/graphql",
        params={"query": "query($q: String!) { __typename }", "variables": '{"q": "\\ud800"}'},
        headers=bearer(platform),
    )
    assert _graphql_refusal(got)["extensions"]["field"] == "query.variables.q"
    assert not app.state.upstreams.calls


@pytest.mark.parametrize("literal", ['"a\\u0000b"', '"\\u{0}"', '"x\\u{000000}"'])
async def test_a_graphql_string_literal_with_nul_is_invalid_text(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings, literal: str
) -> None:
    app, client = gateway
    query = (
        f'mutation {{ submitIdea(input: {{title: {literal}, problem: "p", team: "t"}}) '
        "{ __typename } }"
    )
    response = await client.post("/graphql", json={"query": query}, headers=bearer(platform))
    assert _graphql_refusal(response)["extensions"]["field"] == "body.query"
    got = await client.get("/graphql", params={"query": query}, headers=bearer(platform))
    assert _graphql_refusal(got)["extensions"]["field"] == "query.query"
    assert not app.state.upstreams.calls


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/xapi/../metrics",
        b"/xapi/statements/../../metrics",
        b"/xapi/%2e%2e%2fmetrics",
        b"/xapi/statements%2f..%2f..%2fmetrics",
        b"/xapi/activities%2Fstate",
        b"/xapi/statements/",
        b"/xapi/Statements",
        b"/xapi/statements%00",
        b"/xapi/statements%0d%0aX-Injected:%201",
        b"/xapi/agents/profile/x",
        b"/xapi/",
    ],
)
async def test_the_xapi_pass_through_reaches_only_xapi_resources(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings, raw_path: bytes
) -> None:
    app, _ = gateway
    sent_upstream: list[Any] = []
    upstreams = app.state.upstreams

    async def recording_send(request: httpx.Request, **_: Any) -> httpx.Response:
        sent_upstream.append(request)
        raise AssertionError("no call may leave the gateway")

    upstreams.http.send = recording_send
    headers = {"authorization": bearer(platform)["Authorization"]}
    exchange = await call(app, "GET", raw_path, headers)
    assert exchange.status in (400, 404), exchange.body
    assert json.loads(exchange.body)["error"]["code"] in ("xapi_resource_not_found", "invalid_text")
    assert sent_upstream == []


async def test_the_xapi_pass_through_needs_credentials_before_a_body(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, _ = gateway
    large = {"content-length": str(100 * 1024 * 1024), "content-type": "application/json"}
    nobody = await call(app, "POST", b"/xapi/statements", large, chunks=50)
    assert (nobody.status, nobody.chunks_read) == (401, 0)
    forged = {**large, "authorization": bearer(platform)["Authorization"][:-3] + "xyz"}
    wrong = await call(app, "POST", b"/xapi/statements", forged, chunks=50)
    assert (wrong.status, wrong.chunks_read) == (401, 0)
    basic = {**large, "authorization": "Basic a2V5OnNlY3JldA=="}
    too_large = await call(app, "POST", b"/xapi/statements", basic, chunks=50)
    assert (too_large.status, too_large.chunks_read) == (413, 0)


async def test_the_xapi_pass_through_tells_the_lrs_the_callers_address(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    """The LRS throttles failed credentials per address; behind the gateway every LMS would
    otherwise share the gateway's address, and one attacker could lock them all out."""
    app, client = gateway
    sent_upstream: list[httpx.Request] = []

    async def answering_send(request: httpx.Request, **_: Any) -> httpx.Response:
        sent_upstream.append(request)
        return httpx.Response(429, headers={"retry-after": "30"}, json={"error": {}})

    app.state.upstreams.http.send = answering_send
    headers = {"authorization": "Basic a2V5OnNlY3JldA==", "x-forwarded-for": "10.9.9.9"}
    answer = await client.get("/xapi/statements", headers=headers)
    assert [r.headers["x-forwarded-for"] for r in sent_upstream] == ["127.0.0.1"]
    assert answer.status_code == 429 and answer.headers["retry-after"] == "30"


async def test_the_xapi_pass_through_refuses_header_bytes_it_cannot_forward(
    gateway: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    """A raw byte above 0x7F in a forwarded header (If-None-Match, Content-Type, the xAPI
    version) made the upstream call fail as a 500; it is the client's malformed request."""
    app, _ = gateway

    async def no_call(request: httpx.Request, **_: Any) -> httpx.Response:
        raise AssertionError("no call may leave the gateway")

    app.state.upstreams.http.send = no_call
    for name in ("if-none-match", "x-experience-api-version", "content-type"):
        headers = {"authorization": "Basic a2V5OnNlY3JldA==", name: "1.0.\xff"}
        exchange = await call(app, "GET", b"/xapi/about", headers)
        assert exchange.status == 400, (name, exchange.body)
        assert json.loads(exchange.body)["error"]["code"] == "invalid_header"
