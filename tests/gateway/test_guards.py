"""What the gateway refuses before Strawberry or any service sees a request: batches, oversized
bodies, callers over their rate, unknown operations in trusted-documents mode, foreign browser
origins; and what a bug looks like to a client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.support.apps import app_client, bearer
from tests.support.servers import serve_in_thread

ME = "{ me { subject } }"


@pytest.fixture
def gateway(lone_gateway: tuple[httpx.AsyncClient, FastAPI]) -> httpx.AsyncClient:
    return lone_gateway[0]


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_batched_operations_are_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/graphql", json=[{"query": ME}, {"query": ME}])
    assert response.status_code == 400 and code_of(response) == "BATCHING_DISABLED"


@pytest.mark.parametrize("guard_settings", [{"max_body_kb": 1}])
async def test_a_body_over_the_limit_is_refused(gateway: httpx.AsyncClient) -> None:
    padding = "#" + "x" * 2000 + "\n"
    response = await gateway.post("/graphql", json={"query": padding + ME})
    assert response.status_code == 413 and code_of(response) == "REQUEST_TOO_LARGE"
    assert (await gateway.post("/graphql", json={"query": ME})).status_code == 200


@pytest.mark.parametrize("guard_settings", [{"rate_limit_per_minute": 3}])
async def test_a_caller_over_the_rate_gets_429_with_retry_after(
    gateway: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    statuses = [(await gateway.post("/graphql", json={"query": ME})).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await gateway.post("/graphql", json={"query": ME})
    assert code_of(refused) == "RATE_LIMITED" and int(refused.headers["Retry-After"]) >= 1
    other = bearer(platform, "kees", "worker", "packaging")
    assert (await gateway.post("/graphql", json={"query": ME}, headers=other)).status_code == 200


@pytest.fixture
def trusted(tmp_path: Path) -> Path:
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps({hashlib.sha256(ME.encode()).hexdigest(): ME}))
    return path


async def test_trusted_documents_mode_runs_only_known_operations(
    platform: PlatformSettings, trusted: Path
) -> None:
    settings = GatewaySettings(platform=platform, trusted_documents=trusted)
    async with app_client(create_app(settings)) as client:
        client.headers.update(bearer(platform, "wim", "worker", "packaging"))
        digest = hashlib.sha256(ME.encode()).hexdigest()
        known = await client.post("/graphql", json={"documentId": digest})
        assert known.json()["data"]["me"]["subject"] == "wim"
        apollo = await client.post(
            "/graphql",
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}},
        )
        assert apollo.json()["data"]["me"]["subject"] == "wim"
        free_text = await client.post("/graphql", json={"query": "{ me { subject name } }"})
        assert free_text.status_code == 400 and code_of(free_text) == "PERSISTED_QUERY_NOT_FOUND"
        swapped = await client.post(
            "/graphql", json={"documentId": digest, "query": "{ health { status } }"}
        )
        assert code_of(swapped) == "PERSISTED_QUERY_MISMATCH"


@pytest.mark.parametrize("guard_settings", [{"cors_origins": ["https://intranet.example"]}])
async def test_only_allow_listed_browser_origins_may_call(gateway: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = await gateway.options(
        "/graphql", headers={"Origin": "https://intranet.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://intranet.example"
    foreign = await gateway.options(
        "/graphql", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in foreign.headers


def broken_ideas() -> FastAPI:
    """An ideas service answering in a shape the gateway does not expect."""
    app = FastAPI()

    @app.get("/v1/ideas")
    async def ideas() -> dict[str, Any]:
        return {"items": [{"unexpected": True}], "cursors": ["x"], "next_cursor": None}

    return app


async def test_a_bug_reaches_the_client_as_an_internal_error_with_a_request_id(
    platform: PlatformSettings,
) -> None:
    with serve_in_thread(broken_ideas()) as url:
        settings = GatewaySettings(platform=platform, ideas_url=url)
        async with app_client(create_app(settings)) as client:
            response = await client.post(
                "/graphql",
                json={"query": "{ ideas { edges { node { title } } } }"},
                headers=bearer(platform, "wim", "worker", "packaging"),
            )
    error = response.json()["errors"][0]
    assert error["message"] == "an unexpected error occurred"
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    assert error["extensions"]["request_id"] == response.headers["x-request-id"]
    assert "KeyError" not in response.text and "Traceback" not in response.text
    assert url.split("//")[1] not in response.text, "no internal address"


async def test_operations_are_counted_by_name(gateway: httpx.AsyncClient) -> None:
    await gateway.post("/graphql", json={"query": "query WhoAmI { me { subject } }"})
    await gateway.post("/graphql", json={"query": "query Broken { nope }"})
    metrics = (await gateway.get("/metrics")).text
    assert (
        'werkvloer_graphql_operations_total{operation="WhoAmI",outcome="ok",type="query"}'
        in metrics
    )
    assert 'operation="Broken",outcome="error"' in metrics
