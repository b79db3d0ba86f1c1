"""Every REST route of every service, generated from its own OpenAPI document, gets hostile text
and JSON of the wrong type in its path, query and body (Hypothesis), in process on a real
database (SQLite and PostgreSQL): never a 5xx, and a refused request changes no row."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.analytics.app import MIGRATIONS as ANALYTICS_MIGRATIONS
from services.analytics.app import create_app as create_analytics
from services.analytics.settings import AnalyticsSettings
from services.ideas.app import MIGRATIONS as IDEAS_MIGRATIONS
from services.ideas.app import create_app as create_ideas
from services.reflection.app import MIGRATIONS as REFLECTION_MIGRATIONS
from services.reflection.app import create_app as create_reflection
from services.reflection.settings import ReflectionSettings
from tests.fuzz.hostile import (
    hostile_settings,
    hostile_url_text,
    hostile_url_value,
    hostile_value,
    json_bytes,
    row_counts,
    url_part,
)
from tests.ideas.conftest import _seed_teams, ideas_settings
from tests.support.apps import app_client, bearer

METHODS = {"get", "post", "put", "patch", "delete"}
PARAM = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...]
    body: tuple[str, ...] | None  # JSON properties, None when the route takes no JSON body


def operations(app: FastAPI) -> list[Operation]:
    """Every operation of the app's OpenAPI document, with its query and JSON body fields."""
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            query = tuple(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")
            content = operation.get("requestBody", {}).get("content", {})
            body: tuple[str, ...] | None = None
            if "application/json" in content:
                schema = content["application/json"].get("schema", {})
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                body = tuple(schema.get("properties", {}))
            found.append(Operation(method.upper(), path, query, body))
    return found


@st.composite
def hostile_requests(draw: Any, ops: list[Operation]) -> tuple[Operation, dict[str, Any]]:
    """One operation and a request for it with at least one hostile part."""
    op = draw(st.sampled_from(ops))
    path = PARAM.sub(
        lambda _: url_part(draw(st.one_of(hostile_url_text, st.just(str(uuid.uuid4()))))), op.path
    )
    query = "&".join(
        f"{name}={url_part(draw(hostile_url_value))}" for name in op.query if draw(st.booleans())
    )
    request: dict[str, Any] = {"url": path + (f"?{query}" if query else "")}
    if op.body is not None:
        if op.body and draw(st.booleans()):
            body: Any = {name: draw(hostile_value) for name in op.body}
        else:
            body = draw(hostile_value)
        request["content"] = json_bytes(body)
        request["headers"] = {"Content-Type": "application/json"}
    return op, request


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    platform: PlatformSettings


def _ideas(platform: PlatformSettings, url: str) -> FastAPI:
    asyncio.run(_seed_teams(url))
    return create_ideas(ideas_settings(platform, url))


def _reflection(platform: PlatformSettings, url: str) -> FastAPI:
    settings = ReflectionSettings(
        database_url=url, platform=platform, ingest_worker_enabled=False, relay_enabled=False
    )
    return create_reflection(settings)


def _analytics(platform: PlatformSettings, url: str) -> FastAPI:
    return create_analytics(
        AnalyticsSettings(database_url=url, platform=platform, metrics_refresh_seconds=0)
    )


SERVICES: dict[str, tuple[Path, Callable[[PlatformSettings, str], FastAPI]]] = {
    "ideas": (IDEAS_MIGRATIONS, _ideas),
    "reflection": (REFLECTION_MIGRATIONS, _reflection),
    "analytics": (ANALYTICS_MIGRATIONS, _analytics),
}


@pytest.fixture(params=list(SERVICES))
async def service(
    request: pytest.FixtureRequest, platform: PlatformSettings, database_url: str
) -> AsyncIterator[Service]:
    migrations, factory = SERVICES[request.param]
    await asyncio.to_thread(upgrade, migrations, database_url)
    app = await asyncio.to_thread(factory, platform, database_url)
    async with app_client(app) as client:
        yield Service(app, client, platform)


@hostile_settings(40)
@given(data=st.data())
async def test_hostile_input_never_fails_the_server_nor_half_writes(
    service: Service, data: st.DataObject
) -> None:
    op, request = data.draw(hostile_requests(operations(service.app)))
    role = data.draw(st.sampled_from(["admin", "worker", "lrs-client"]))
    headers = {
        **request.pop("headers", {}),
        **bearer(service.platform, f"hostile-{role}", role, "packaging"),
        "X-Experience-API-Version": "1.0.3",
    }
    engine = service.app.state.database.engine
    before = await row_counts(engine)
    response = await service.client.request(op.method, headers=headers, **request)
    assert response.status_code < 500, (op, request["url"][:200], response.text[:500])
    if response.status_code >= 400:
        assert await row_counts(engine) == before, (op, request["url"][:200], response.text[:300])
