"""Reads are retried, writes are not, and a service that keeps failing is left alone for a
while (circuit breaker) instead of being called by every request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response

from gateway.clients import Upstreams, UpstreamUnavailable, call
from tests.support.servers import serve_in_thread


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
