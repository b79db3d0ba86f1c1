"""The request owns the transaction; every error has one body; readiness tells the truth."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text

from kit.app import create_service_app
from kit.db import Database, SessionDep
from kit.errors import Conflict
from kit.migrations import upgrade
from kit.settings import PlatformSettings, ServiceSettings
from tests.support.apps import app_client, bearer

# Any service's migrations will do: these tests are about the kit, not the domain.
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "ideas" / "migrations"


class Note(BaseModel):
    body: str = Field(min_length=1, max_length=20)
    fail_after_write: bool = False


def _app(platform: PlatformSettings, url: str) -> FastAPI:
    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def add(note: Note, session: SessionDep) -> dict[str, str]:
        await session.exec(
            text("INSERT INTO probe_notes (body) VALUES (:b)").bindparams(b=note.body)
        )
        if note.fail_after_write:
            raise Conflict("refused after the write", code="probe_refused")
        return {"body": note.body}

    @router.post("/crash")
    async def crash(session: SessionDep) -> None:
        await session.exec(text("INSERT INTO probe_notes (body) VALUES ('crash')"))
        raise RuntimeError("a bug with an internal detail: postgres://secret@db")

    @router.post("/race")
    async def race(session: SessionDep) -> None:
        # Stands for a write that lost a race (a row deleted or added meanwhile): the database
        # refuses it with a constraint error.
        await session.exec(text("INSERT INTO probe_notes (body) VALUES ('first')"))
        await session.exec(text("INSERT INTO probe_notes (body) VALUES (NULL)"))

    return create_service_app(
        service="probe",
        settings=ServiceSettings(platform=platform),
        database_url=url,
        migrations=MIGRATIONS,
        routers=[router],
        description="db probe",
    )


async def _count(url: str) -> int:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            result = await connection.execute(text("SELECT count(*) FROM probe_notes"))
            return int(result.scalar_one())
    finally:
        await database.dispose()


@pytest.fixture
async def client(platform: PlatformSettings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url)
    database = Database(database_url)
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe_notes (body VARCHAR(20) NOT NULL)"))
    await database.dispose()
    async with app_client(_app(platform, database_url)) as client:
        client.headers.update(bearer(platform))  # a body is read only after authentication
        yield client


async def test_success_commits(client: httpx.AsyncClient, database_url: str) -> None:
    response = await client.post("/notes", json={"body": "kept"})
    assert response.status_code == 201
    assert await _count(database_url) == 1


async def test_expected_failure_rolls_back_with_its_code(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post("/notes", json={"body": "lost", "fail_after_write": True})
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "probe_refused", "message": "refused after the write", "details": None}
    }
    assert await _count(database_url) == 0


async def test_a_bug_is_500_without_internals_and_rolls_back(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post("/crash", headers={"X-Request-ID": "trace-me-1"})
    assert response.status_code == 500
    body = response.json()["error"]
    assert body["code"] == "internal_error"
    assert "secret" not in response.text
    assert body["details"] == {"request_id": "trace-me-1"}
    assert await _count(database_url) == 0


async def test_a_write_the_database_refuses_is_409_and_rolls_back(
    client: httpx.AsyncClient, database_url: str
) -> None:
    response = await client.post("/race")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "concurrent_change"
    assert await _count(database_url) == 0


async def test_validation_error_names_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/notes", json={"body": ""})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["location"] == ["body", "body"]


async def test_malformed_json_is_a_4xx_with_the_error_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/notes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_route_and_method_have_codes(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong_method = await client.get("/notes")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )


async def test_request_id_is_echoed_and_unsafe_ids_replaced(client: httpx.AsyncClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    replaced = await client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert kept.headers["X-Request-ID"] == "abc-123"
    assert replaced.headers["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced.headers["X-Request-ID"]) == 32


async def test_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["status"] == "up"


async def test_not_ready_when_the_schema_is_behind(
    platform: PlatformSettings, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}"
    async with app_client(_app(platform, url)) as client:
        liveness = await client.get("/healthz")
        readiness = await client.get("/readyz")
    assert liveness.status_code == 200
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["database"]["status"] == "down"


async def test_not_ready_when_the_database_is_unreachable(platform: PlatformSettings) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    async with app_client(_app(platform, url)) as client:
        readiness = await client.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json()["status"] == "down"
