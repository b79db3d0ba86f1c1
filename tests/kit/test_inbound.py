"""kit/inbound.py on a probe process built by `create_service_app` (issue 12 items 1, 10, 11):
authentication before any body is read, bodies bounded while they stream, one text rule for
path, query and JSON bodies, the parameter/body split of validation errors, and responses that
always encode. Requests are driven at the ASGI level where it matters what was *read*."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request

from kit.app import create_service_app
from kit.auth import PrincipalDep
from kit.inbound import BodyRule, InboundMiddleware, LargeBodies
from kit.settings import PlatformSettings, ServiceSettings
from tests.support.apps import app_client, bearer
from tests.support.waiting import DEADLINE_SECONDS

LIMIT_KB = 4
LIMIT = LIMIT_KB * 1024
CHUNK = 1024


def _probe(platform: PlatformSettings) -> FastAPI:
    router = APIRouter()

    @router.post("/notes")
    async def add(note: dict[str, Any], principal: PrincipalDep) -> dict[str, Any]:
        return {"by": principal.subject, "note": note}

    @router.get("/items")
    async def items(
        principal: PrincipalDep,
        limit: Annotated[int, Query(ge=1, le=10)] = 5,
        tag: str | None = None,
    ) -> dict[str, Any]:
        return {"limit": limit, "tag": tag}

    @router.get("/items/{number}")
    async def item(number: int, principal: PrincipalDep) -> dict[str, int]:
        return {"number": number}

    @router.get("/stored")
    async def stored(principal: PrincipalDep) -> dict[str, Any]:
        # A value stored before the entry rule existed.
        return {"title": "completed \ud800", "tags": ["a\x00b"], "key\udc80": 1}

    @router.post("/basic/upload")
    async def basic_upload(request: Request) -> dict[str, Any]:
        scheme, _, _ = request.headers["authorization"].partition(" ")
        if scheme.lower() != "basic":
            return {"read": 0}
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"read": size}

    return create_service_app(
        service="probe",
        settings=ServiceSettings(platform=platform, max_body_kb=LIMIT_KB),
        database_url=None,
        routers=[router],
        description="inbound probe",
        body_rules=[BodyRule("/basic/.*", 2 * LIMIT, basic=True)],
    )


@pytest.fixture
async def probe(platform: PlatformSettings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = _probe(platform)
    async with app_client(app) as client:
        yield app, client


@dataclass
class Exchange:
    """One request driven at the ASGI level: what the app read, and what it answered."""

    chunks_read: int = 0
    status: int = 0
    body: bytes = b""
    sent: list[MutableMapping[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return {k.decode(): v.decode() for k, v in start.get("headers", [])}

    @property
    def error(self) -> dict[str, Any]:
        return dict(json.loads(self.body)["error"])


async def call(
    app: FastAPI,
    method: str,
    raw_path: bytes,
    headers: dict[str, str],
    chunks: int = 0,
    query: bytes = b"",
) -> Exchange:
    """Send `chunks` body chunks of CHUNK bytes (counting how many the app asked for)."""
    exchange = Exchange()

    async def receive() -> dict[str, Any]:
        if chunks == 0 and not exchange.sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        if exchange.chunks_read >= chunks:
            return {"type": "http.disconnect"}
        exchange.chunks_read += 1
        more = exchange.chunks_read < chunks
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": more}

    async def send(message: MutableMapping[str, Any]) -> None:
        exchange.sent.append(message)
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "root_path": "",
        "state": {},
    }
    await app(scope, receive, send)
    return exchange


# --- item 1: authentication before the body, bounded bodies --------------------------------


async def test_a_body_without_credentials_is_refused_unread(
    probe: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = probe
    for headers in (
        {"content-length": str(100 * CHUNK)},
        {"transfer-encoding": "chunked"},
    ):
        sent = await call(app, "POST", b"/notes", headers, chunks=100)
        assert (sent.status, sent.error["code"]) == (401, "token_missing")
        assert sent.chunks_read == 0


async def test_a_body_with_a_wrong_token_is_refused_unread(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, _ = probe
    forged = bearer(platform)["Authorization"][:-4] + "AAAA"
    for authorization in (forged, "Bearer not-a-jwt", "Token abc", "Basic dTpw"):
        headers = {"authorization": authorization, "transfer-encoding": "chunked"}
        sent = await call(app, "POST", b"/notes", headers, chunks=100)
        assert sent.status == 401 and sent.error["code"].startswith("token_")
        assert sent.chunks_read == 0


async def test_a_declared_length_over_the_limit_is_refused_unread(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, _ = probe
    headers = {**_lower(bearer(platform)), "content-length": str(LIMIT + 1)}
    sent = await call(app, "POST", b"/notes", headers, chunks=LIMIT_KB + 1)
    assert (sent.status, sent.error["code"]) == (413, "payload_too_large")
    assert sent.error["details"] == {"limit": LIMIT}
    assert sent.chunks_read == 0


async def test_a_chunked_body_is_refused_when_it_passes_the_limit(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, _ = probe
    headers = {**_lower(bearer(platform)), "transfer-encoding": "chunked"}
    headers["content-type"] = "application/json"
    sent = await call(app, "POST", b"/notes", headers, chunks=1000)
    assert (sent.status, sent.error["code"]) == (413, "payload_too_large")
    assert sent.chunks_read == LIMIT_KB + 1  # read until it passed the limit, not further


async def test_basic_credentials_reach_a_route_that_accepts_them(
    probe: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = probe
    basic = {"authorization": "Basic a2V5OnNlY3JldA==", "content-length": str(2 * CHUNK)}
    sent = await call(app, "POST", b"/basic/upload", basic, chunks=2)
    assert sent.status == 200 and json.loads(sent.body) == {"read": 2 * CHUNK}
    empty = await call(app, "POST", b"/basic/upload", {"authorization": "Basic "}, chunks=0)
    assert empty.status == 200  # no body: nothing to guard
    bare = {"authorization": "Basic ", "transfer-encoding": "chunked"}
    refused = await call(app, "POST", b"/basic/upload", bare, chunks=10)
    assert refused.status == 401 and refused.chunks_read == 0
    too_long = await call(app, "POST", b"/basic/upload", {**basic, "content-length": "9999"}, 10)
    assert (too_long.status, too_long.chunks_read) == (413, 0)


async def test_the_token_is_verified_once_per_request(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, client = probe
    verifier = app.state.verifier
    calls = 0
    original = verifier.verify

    async def counting(token: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return dict(await original(token))

    verifier.verify = counting
    response = await client.post("/notes", json={"a": 1}, headers=bearer(platform, "alice"))
    assert response.status_code == 200 and response.json()["by"] == "alice"
    assert calls == 1


async def test_public_and_bodiless_requests_pass(probe: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = probe
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/items")).json()["error"]["code"] == "token_missing"


# --- item 10: one rule for text -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        (b"tag=a%00b", "tag"),
        (b"tag=%ED%A0%80", "tag"),  # U+D800 encoded as UTF-8: not valid UTF-8
        (b"tag=%FF", "tag"),
        (b"limit=1&a%00=1", "a\ufffd"),
        (b"tag=%7B%22name%22%3A%22a%5Cu0000%22%7D", "tag"),  # {"name":"a\u0000"}
        (b"tag=%5B%22%5Cud800%22%5D", "tag"),  # ["\ud800"]
    ],
)
async def test_bad_text_in_the_query_is_refused(
    probe: tuple[FastAPI, httpx.AsyncClient],
    platform: PlatformSettings,
    query: bytes,
    parameter: str,
) -> None:
    app, _ = probe
    sent = await call(app, "GET", b"/items", _lower(bearer(platform)), query=query)
    assert (sent.status, sent.error["code"]) == (400, "invalid_text"), sent.body
    assert sent.error["details"][0]["parameter"] == parameter.replace("\x00", "\ufffd")
    assert sent.error["details"][0]["location"] == ["query", parameter]


async def test_bad_text_in_the_path_is_refused(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    app, _ = probe
    for raw in (b"/items/1%00", b"/items/%ED%B0%80", b"/items/%C0"):
        sent = await call(app, "GET", raw, _lower(bearer(platform)))
        assert (sent.status, sent.error["code"]) == (400, "invalid_text")
        assert sent.error["details"][0]["location"] == ["path"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"title": "a\\u0000b"}', "body.title"),
        (b'{"verb": {"display": {"en-US": "completed \\ud800"}}}', "body.verb.display.en-US"),
        (b'{"tags": ["ok", "\\uDFFF"]}', "body.tags[1]"),
        (b'{"\\u0000": 1}', "body.<key>"),
    ],
)
async def test_bad_text_in_a_json_body_is_refused(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings, raw: bytes, field: str
) -> None:
    _, client = probe
    for content_type in ("application/json", "application/merge-patch+json; charset=utf-8"):
        headers = {**bearer(platform), "Content-Type": content_type}
        response = await client.post("/notes", content=raw, headers=headers)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_text" and error["details"][0]["field"] == field
    fine = await client.post(
        "/notes",
        content=b'{"title": "caf\\u00e9 \\ud83d\\ude00"}',
        headers={**bearer(platform), "Content-Type": "application/json"},
    )
    assert fine.status_code == 200 and fine.json()["note"]["title"] == "café 😀"


async def test_a_stored_bad_value_is_still_answered(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    _, client = probe
    response = await client.get("/stored", headers=bearer(platform))
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "completed \ufffd" and body["tags"] == ["a\ufffdb"]
    (key,) = [k for k in body if k.startswith("key")]
    assert (
        "\ufffd" in key
    )  # pydantic replaces each byte of a surrogate key: "key\ufffd\ufffd\ufffd"


# --- item 11: parameters are 400 naming them, bodies 422 ------------------------------------


async def test_parameter_errors_are_400_naming_the_parameter(
    probe: tuple[FastAPI, httpx.AsyncClient], platform: PlatformSettings
) -> None:
    _, client = probe
    for url, parameter in (("/items?limit=0", "limit"), ("/items?limit=x", "limit"),
                           ("/items/abc", "number")):  # fmt: skip
        response = await client.get(url, headers=bearer(platform))
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_parameter" and parameter in error["message"]
        assert error["details"][0]["parameter"] == parameter
    body = await client.post("/notes", json=[1], headers=bearer(platform))
    assert (body.status_code, body.json()["error"]["code"]) == (422, "validation_error")


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


async def test_large_bodies_at_once_are_bounded_and_the_rest_wait_then_get_busy() -> None:
    """Each body limit bounds one request; this bounds their sum (second attack round: 16
    concurrent 20 MB xAPI batches took analytics to 960 MB)."""
    both, release = asyncio.Event(), asyncio.Event()
    running = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal running
        if dict(scope["headers"])[b"content-length"] != b"10":  # the large ones hold on
            running += 1
            if running == 2:
                both.set()
            await release.wait()
            running -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = InboundMiddleware(
        app,
        default_max_bytes=LIMIT,
        rules=[BodyRule("/big", 64 * 1024 * 1024, public=True)],
        large_bodies=LargeBodies(2, 0.05),
    )
    big = {"content-length": str(20 * 1024 * 1024)}
    first = [asyncio.ensure_future(call(guard, "POST", b"/big", big)) for _ in range(2)]
    await asyncio.wait_for(both.wait(), DEADLINE_SECONDS)
    # Both slots are taken: a third large body waits its turn, then is told to come back.
    busy = await call(guard, "POST", b"/big", big)
    assert (busy.status, busy.error["code"]) == (503, "busy")
    assert busy.headers["retry-after"] == "1"
    small = await call(guard, "POST", b"/big", {"content-length": "10"}, chunks=0)
    assert small.status == 200  # small bodies never wait for a slot
    release.set()
    assert [(await f).status for f in first] == [200, 200]
