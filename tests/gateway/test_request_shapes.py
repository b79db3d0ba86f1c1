"""Malformed GraphQL requests — a body that is not an object, bad JSON, a missing or non-string
query, variables of the wrong shape or type, unknown fragments, fields and operations — get a
GraphQL error with `extensions.code`, HTTP 400, no service call, and no ERROR in the log."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port

ME = "{ me { subject } }"


@pytest.fixture
async def gateway(platform: PlatformSettings) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        platform=platform, ideas_url=dead, reflection_url=dead, analytics_url=dead
    )
    app = create_app(settings)
    async with app_client(app) as client:
        client.headers.update(bearer(platform, "wim", "worker", "packaging"))
        yield client, app


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


ZERO_ID = "00000000-0000-0000-0000-000000000000"
CASES = [
    # (what, raw body, expected code)
    ("null body", b"null", "BAD_REQUEST"),
    ("number body", b"1", "BAD_REQUEST"),
    ("string body", b'"x"', "BAD_REQUEST"),
    ("boolean body", b"true", "BAD_REQUEST"),
    ("empty list", b"[]", "BATCHING_DISABLED"),
    ("bad JSON", b"{bad", "BAD_REQUEST"),
    ("not UTF-8", b"\xff\xfe{}", "BAD_REQUEST"),
    ("empty body", b"", "BAD_REQUEST"),
    ("no query", b"{}", "BAD_REQUEST"),
    ("query not a string", _json({"query": 1}), "BAD_REQUEST"),
    ("query a list", _json({"query": [ME]}), "BAD_REQUEST"),
    ("variables not an object", _json({"query": ME, "variables": 3}), "BAD_REQUEST"),
    ("variables a list", _json({"query": ME, "variables": []}), "BAD_REQUEST"),
    ("operationName not a string", _json({"query": ME, "operationName": 5}), "BAD_REQUEST"),
    ("extensions not an object", _json({"query": ME, "extensions": "x"}), "BAD_REQUEST"),
    (
        "operationName not found",
        _json({"query": "query A { me { subject } }", "operationName": "B"}),
        "BAD_REQUEST",
    ),
    (
        "subscription over HTTP",
        _json({"query": f'subscription {{ ideaChanged(id: "{ZERO_ID}") {{ id }} }}'}),
        "BAD_REQUEST",
    ),
    (
        "subscription named among operations",
        _json(
            {
                "query": f'query Q {{ me {{ subject }} }} subscription S {{ ideaChanged(id: "{ZERO_ID}") {{ id }} }}',
                "operationName": "S",
            }
        ),
        "BAD_REQUEST",
    ),
    (
        "an integer past Python's conversion limit",
        b'{"query": "{ me { subject } }", "variables": {"x": ' + b"9" * 4400 + b"}}",
        "BAD_REQUEST",
    ),
    (
        "an integer past the limit in extensions",
        b'{"query": "{ me { subject } }", "extensions": {"x": ' + b"9" * 4400 + b"}}",
        "BAD_REQUEST",
    ),
    (
        "nesting past the parser's recursion",
        b'{"query": "{ me { subject } }", "variables": {"x": '
        + b"[" * 20000
        + b"]" * 20000
        + b"}}",
        "BAD_REQUEST",
    ),
    (
        "an integer literal of thousands of digits",
        _json({"query": '{ search(query: "x", k: ' + "1" * 4400 + ") { text } }"}),
        "BAD_USER_INPUT",
    ),
    ("syntax error", _json({"query": "{"}), "GRAPHQL_PARSE_FAILED"),
    ("unknown field", _json({"query": "{ healthz }"}), "GRAPHQL_VALIDATION_FAILED"),
    ("unknown fragment", _json({"query": "{ me { ...F } }"}), "GRAPHQL_VALIDATION_FAILED"),
    ("unknown root fragment", _json({"query": "{ ...F }"}), "GRAPHQL_VALIDATION_FAILED"),
    (
        "unknown argument",
        _json({"query": "{ me(who: 1) { subject } }"}),
        "GRAPHQL_VALIDATION_FAILED",
    ),
    (
        "variable of the wrong type",
        _json(
            {
                "query": "query($n: Int!) { ideas(first: $n) { edges { cursor } } }",
                "variables": {"n": "x"},
            }
        ),
        "BAD_USER_INPUT",
    ),
    (
        "required variable missing",
        _json({"query": "query($n: Int!) { ideas(first: $n) { edges { cursor } } }"}),
        "BAD_USER_INPUT",
    ),
]


@pytest.mark.parametrize(("what", "body", "code"), CASES, ids=[c[0] for c in CASES])
async def test_a_malformed_request_is_a_400_graphql_error_with_a_code(
    gateway: tuple[httpx.AsyncClient, FastAPI],
    caplog: pytest.LogCaptureFixture,
    what: str,
    body: bytes,
    code: str,
) -> None:
    client, app = gateway
    response = await client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, (what, response.text)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code], (what, errors)
    assert response.json().get("data") is None
    assert dict(app.state.upstreams.calls) == {}
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert loud == [], f"a client's mistake is not an error of ours: {loud[0].getMessage()}"
    assert all(r.exc_info is None for r in caplog.records), "no traceback for a client's mistake"


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("GET", {"params": {"query": ME, "variables": "{bad"}}),
        ("GET", {"params": {"query": ME, "variables": "3"}}),
        ("GET", {"params": {"query": ME, "variables": '{"x": ' + "9" * 4400 + "}"}}),
        ("GET", {"params": {"query": ME, "variables": '{"x": ' + "[" * 1200 + "]" * 1200 + "}"}}),
        ("GET", {"params": {"query": 'mutation { supportIdea(id: "x") { __typename } }'}}),
        ("GET", {"params": {"query": f'subscription {{ ideaChanged(id: "{ZERO_ID}") {{ id }} }}'}}),
        ("POST", {"content": b"query=x", "headers": {"content-type": "text/plain"}}),
    ],
)
async def test_strawberry_refusals_get_the_graphql_error_shape(
    gateway: tuple[httpx.AsyncClient, FastAPI], method: str, kwargs: dict[str, Any]
) -> None:
    client, _ = gateway
    response = await client.request(method, "/graphql", **kwargs)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_error_inside_execution_keeps_http_200_and_its_data(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    """Only a request refused as a whole is a 400: a field that fails leaves the rest."""
    client, _ = gateway
    response = await client.post(
        "/graphql",
        json={
            "query": '{ me { subject } idea(id: "2f1b7c9e-8a51-4d55-9a43-0c6a3b1d2e4f") { title } }'
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["me"]["subject"] == "wim"
    assert body["data"]["idea"] is None and body["errors"][0]["path"] == ["idea"]
