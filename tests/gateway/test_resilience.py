"""Reads are retried, writes are not, and a service that keeps failing is left alone for a
while (circuit breaker) instead of being called by every request; only a sick service opens it
(not one caller's slow queries), and a client that goes away takes its upstream calls with it.
The breaker's states alone are tested in tests/kit/test_breaker.py, caller slots in
tests/kit/test_service_client.py."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response

from gateway.app import create_app
from gateway.callers import current_caller
from gateway.settings import GatewaySettings
from gateway.upstream import Upstreams, UpstreamUnavailable, call
from kit.breaker import CLOSED
from kit.settings import PlatformSettings
from tests.support.apps import bearer
from tests.support.servers import serve_in_thread
from tests.support.waiting import DEADLINE_SECONDS, wait_until_async


@pytest.fixture
def flaky() -> Iterator[tuple[str, dict[str, int]]]:
    """Fails the first GET, then answers; every POST fails."""
    seen = {"GET": 0, "POST": 0}
    app = FastAPI()

    @app.get("/thing")
    async def get() -> Any:
        seen["GET"] += 1
        return {"ok": True} if seen["GET"] > 1 else Response(status_code=503)

    @app.post("/thing")
    async def post() -> Response:
        seen["POST"] += 1
        return Response(status_code=503)

    with serve_in_thread(app) as url:
        yield url, seen


async def test_reads_are_retried_and_writes_are_not(flaky: tuple[str, dict[str, int]]) -> None:
    url, seen = flaky
    async with httpx.AsyncClient() as http:
        upstreams = Upstreams(http, {"ideas": url}, 1.0, read_retries=1)
        reply = await call(upstreams, "ideas", "GET", "/thing", token="t")
        assert reply.body == {"ok": True} and seen["GET"] == 2
        with pytest.raises(UpstreamUnavailable):
            await call(upstreams, "ideas", "POST", "/thing", token="t")
        assert seen["POST"] == 1, "a write that failed may have happened: never resent"


async def test_the_breaker_stops_calls_to_a_failing_service(
    flaky: tuple[str, dict[str, int]],
) -> None:
    url, seen = flaky
    async with httpx.AsyncClient() as http:
        upstreams = Upstreams(
            http, {"ideas": url}, 1.0, read_retries=0, breaker_failures=3, breaker_open_seconds=60
        )
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable):
                await call(upstreams, "ideas", "POST", "/thing", token="t")
        assert seen["POST"] == 3
        with pytest.raises(UpstreamUnavailable):
            await call(upstreams, "ideas", "GET", "/thing", token="t")
        assert seen == {"GET": 0, "POST": 3}, "while open, nothing reaches the service"


@pytest.fixture
def slow() -> Iterator[tuple[str, threading.Event, dict[str, str]]]:
    """Answers `/slow` only after its client has gone, and notes that; `/fast` at once."""
    gone = threading.Event()
    seen: dict[str, str] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen[scope["path"]] = "asked"
        if scope["path"].startswith("/slow"):
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    with serve_in_thread(app) as url:
        yield url, gone, seen


async def test_a_slow_caller_does_not_open_the_breaker_for_another(
    slow: tuple[str, threading.Event, dict[str, str]],
) -> None:
    url, _, _ = slow
    async with httpx.AsyncClient() as http:
        upstreams = Upstreams(
            http,
            {"reflection": url},
            1.0,
            timeout_seconds=0.05,
            read_retries=0,
            breaker_failures=2,
        )
        token = current_caller.set("sub:wim")
        try:
            for _ in range(6):  # one worker's slow searches all time out
                with pytest.raises(UpstreamUnavailable):
                    await call(upstreams, "reflection", "POST", "/slow", token="t")
        finally:
            current_caller.reset(token)
        assert upstreams.breakers["reflection"].current_state() == CLOSED
        token = current_caller.set("sub:kees")
        try:
            reply = await call(upstreams, "reflection", "GET", "/fast", token="t")
        finally:
            current_caller.reset(token)
        assert reply.ok, "another caller still reaches the service"


async def test_a_client_that_goes_away_cancels_its_upstream_calls(
    slow: tuple[str, threading.Event, dict[str, str]], platform: PlatformSettings
) -> None:
    """The gateway over real HTTP; the caller gives up; the slow service sees its connection
    from the gateway close (it would otherwise wait the full upstream time limit)."""
    url, gone, seen = slow
    settings = GatewaySettings(
        platform=platform,
        ideas_url=url + "/never",
        reflection_url=url + "/slow",
        analytics_url=url,
        upstream_timeout_seconds=DEADLINE_SECONDS * 4,
    )
    query = '{ search(query: "vorkheftruck", k: 3) { text } }'
    with serve_in_thread(create_app(settings)) as gateway:
        async with httpx.AsyncClient(base_url=gateway) as client:
            request = client.post(
                "/graphql",
                json={"query": query},
                headers=bearer(platform, "wim", "worker", "logistics"),
                timeout=DEADLINE_SECONDS * 4,
            )
            task = asyncio.ensure_future(request)

            async def asked() -> bool:
                return "/slow/v1/search" in seen

            async def left() -> bool:
                return gone.is_set()

            await wait_until_async(asked, "the gateway asked the slow service")
            task.cancel()  # the client goes away: its connection closes
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await wait_until_async(left, "the gateway hung up on the slow service")


async def test_the_xapi_pass_through_passes_the_breaker_and_gives_its_slot_back(
    lone_gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    """/xapi calls analytics through its service client: answers below 500 pass on, a 5xx or
    an unreachable analytics is 503 analytics_unavailable, and no call keeps a caller's slot."""
    client, app = lone_gateway
    lrs = FastAPI()

    @lrs.get("/xapi/{resource}")
    async def answer(resource: str) -> Response:
        return Response(status_code=500 if resource == "about" else 401, content=b"{}")

    basic = {"Authorization": "Basic a2V5OnNlY3JldA=="}
    upstreams = app.state.upstreams
    unreachable = await client.get("/xapi/statements", headers=basic)
    with serve_in_thread(lrs) as url:
        upstreams.urls["analytics"] = url
        refused = await client.get("/xapi/statements", headers=basic)
        failing = await client.get("/xapi/about", headers=basic)
    assert refused.status_code == 401, "a refusal is the LRS's own answer"
    for answer_ in (unreachable, failing):
        assert answer_.status_code == 503
        assert answer_.json()["error"]["code"] == "analytics_unavailable"
    assert upstreams.calls["analytics"] == 3
    assert upstreams.slots.in_use("ip:127.0.0.1") == 0
