"""The gateway answers for itself even when every service behind it is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.app import create_app
from gateway.sdl import sdl
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.support.apps import app_client, bearer
from tests.support.servers import free_port

HEALTH = "{ health { service status detail } }"


@pytest.fixture
async def gateway(platform: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        platform=platform, ideas_url=dead, reflection_url=dead, analytics_url=dead
    )
    async with app_client(create_app(settings)) as client:
        yield client


async def test_down_services_are_reported_down_and_the_gateway_stays_up(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post("/graphql", json={"query": HEALTH})
    assert response.status_code == 200
    health = response.json()["data"]["health"]
    assert [(h["service"], h["status"]) for h in health] == [
        ("ideas", "DOWN"),
        ("reflection", "DOWN"),
        ("analytics", "DOWN"),
    ]
    assert all("127.0.0.1" not in (h["detail"] or "") for h in health)
    assert (await gateway.get("/healthz")).status_code == 200


async def test_me_needs_a_token(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/graphql", json={"query": "{ me { subject } }"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None


async def test_me_with_a_token(gateway: httpx.AsyncClient, platform: PlatformSettings) -> None:
    response = await gateway.post(
        "/graphql",
        json={"query": "{ me { subject roles teams } }"},
        headers=bearer(platform, "carla", "coach", "packaging,logistics"),
    )
    assert response.json()["data"]["me"] == {
        "subject": "carla",
        "roles": ["coach"],
        "teams": ["logistics", "packaging"],
    }


async def test_a_bad_token_is_refused_before_any_resolver(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/graphql", json={"query": HEALTH}, headers={"Authorization": "Bearer forged.token.here"}
    )
    assert response.status_code == 401
    # The GraphQL error shape, like every other refusal on /graphql (one shape to parse).
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_MALFORMED"
    assert "WWW-Authenticate" in response.headers


async def test_introspection_is_off_in_production(tmp_path) -> None:
    platform = PlatformSettings(  # type: ignore[call-arg]
        environment="production",  # type: ignore[arg-type]
        var_dir=tmp_path,
        auth_issuer="https://id.example",
        auth_audience="werkvloer",
        auth_jwks_url="http://127.0.0.1:9/jwks",
        _env_file=None,
    )
    async with app_client(create_app(GatewaySettings(platform=platform))) as client:
        response = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.json()["errors"]
    assert ide.status_code != 200 or "graphiql" not in ide.text.lower()


def test_committed_schema_matches_the_code() -> None:
    """`make schema` must be run and its output committed whenever the schema changes."""
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "gateway" / "schema.graphql"
    assert committed.read_text() == sdl(), "run `make schema` and commit gateway/schema.graphql"
