"""kit/service_client.py over real HTTP: which calls are retried (idempotent methods and keyed
POSTs, never a plain POST), what is sent (bearer token, Idempotency-Key), what comes back (the
reply below 500, one ServiceUnavailable otherwise), that an open breaker sends nothing, and
that one caller holds at most its slots; a streamed call (sent and read as it comes, held for
its block, never retried) passes the same breaker."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from kit.breaker import OPEN, Breaker
from kit.errors import ServiceUnavailable as AppServiceUnavailable
from kit.service_client import CallerSlots, ServiceClient, ServiceUnavailable
from tests.support.servers import serve_in_thread
from tests.support.waiting import wait_until_async


@pytest.fixture
def service() -> Iterator[tuple[str, Counter[str], list[dict[str, str]]]]:
    """`/fail` answers 503 to every method; `/once` fails the first call of each method, then
    answers; `/echo` answers what it was sent; `/count` the number of body bytes it read.
    Counts calls per method and path."""
    seen: Counter[str] = Counter()
    sent: list[dict[str, str]] = []
    app = FastAPI()

    @app.api_route("/{name}", methods=["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"])
    async def anything(name: str, request: Request) -> Any:
        key = f"{request.method} /{name}"
        seen[key] += 1
        sent.append(dict(request.headers))
        if name == "fail" or (name == "once" and seen[key] == 1):
            return Response(status_code=503)
        if name == "missing":
            return Response(status_code=404, content=b'{"error": {"code": "not_found"}}')
        if name == "text":
            return Response(content=b"plain", media_type="text/plain")
        if name == "count":
            return {"bytes": len(await request.body())}
        return {"method": request.method, "query": dict(request.query_params)}

    with serve_in_thread(app) as url:
        yield url, seen, sent


def client(url: str, http: httpx.AsyncClient, **options: Any) -> ServiceClient:
    return ServiceClient("ideas", url + "/", http, **options)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
async def test_idempotent_calls_are_retried(
    service: tuple[str, Counter[str], list[dict[str, str]]], method: str
) -> None:
    url, seen, _ = service
    async with httpx.AsyncClient() as http:
        reply = await client(url, http, retries=1).request(method, "/once")
    assert reply.status == 200 and seen[f"{method} /once"] == 2


async def test_a_post_is_retried_only_with_an_idempotency_key(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, seen, sent = service
    async with httpx.AsyncClient() as http:
        ideas = client(url, http, retries=2)
        with pytest.raises(ServiceUnavailable):
            await ideas.request("POST", "/fail")
        assert seen["POST /fail"] == 1, "a write that failed may have happened: never resent"
        with pytest.raises(ServiceUnavailable):
            await ideas.request("PATCH", "/fail")
        assert seen["PATCH /fail"] == 1
        reply = await ideas.request("POST", "/once", idempotency_key="reflection-1-action-0")
    assert reply.ok and seen["POST /once"] == 2
    assert [h.get("idempotency-key") for h in sent[-2:]] == ["reflection-1-action-0"] * 2


async def test_retries_can_be_limited_to_reads(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, seen, _ = service
    async with httpx.AsyncClient() as http:
        reads_only = client(url, http, retry_methods={"GET"}, retry_keyed_posts=False)
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("PUT", "/fail")
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("POST", "/fail", idempotency_key="k")
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("GET", "/fail")
    assert (seen["PUT /fail"], seen["POST /fail"], seen["GET /fail"]) == (1, 1, 2)


async def test_the_token_is_forwarded_and_the_reply_is_parsed(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, _, sent = service
    async with httpx.AsyncClient() as http:
        ideas = client(url, http)
        reply = await ideas.request("GET", "/echo", token="abc", params={"q": "x y"})
        missing = await ideas.request("GET", "/missing")
        text = await ideas.request("GET", "/text")
    assert reply.body == {"method": "GET", "query": {"q": "x y"}}
    assert sent[0]["authorization"] == "Bearer abc"
    assert (missing.status, missing.ok, missing.body) == (
        404,
        False,
        {"error": {"code": "not_found"}},
    )
    assert text.body == "plain"


async def test_a_failing_service_is_one_503_naming_the_service_not_its_address(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, _, _ = service
    async with httpx.AsyncClient() as http:
        with pytest.raises(ServiceUnavailable) as failed:
            await client(url, http, retries=0).request("GET", "/fail")
        with pytest.raises(ServiceUnavailable) as unreachable:
            await client("http://127.0.0.1:9", http, retries=0).request("GET", "/echo")
    for error in (failed.value, unreachable.value):
        assert isinstance(error, AppServiceUnavailable)
        assert (error.status_code, error.code, error.service) == (
            503,
            "service_unavailable",
            "ideas",
        )
        assert "127.0.0.1" not in str(error)


async def test_an_open_breaker_sends_nothing(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, seen, _ = service
    async with httpx.AsyncClient() as http:
        ideas = client(url, http, retries=0, breaker=Breaker(threshold=2, open_seconds=60))
        for _ in range(2):
            with pytest.raises(ServiceUnavailable):
                await ideas.request("GET", "/fail")
        assert ideas.breaker.current_state() == OPEN
        with pytest.raises(ServiceUnavailable):
            await ideas.request("GET", "/echo")
        with pytest.raises(ServiceUnavailable):
            async with ideas.stream("POST", "/echo", json={}):
                raise AssertionError("a stream gets no response through an open breaker")
    assert seen == Counter({"GET /fail": 2}) and ideas.calls == 2


async def test_one_caller_holds_at_most_its_slots_and_others_are_not_queued_behind() -> None:
    slots = CallerSlots(per_caller=2)
    release = asyncio.Event()
    running: list[str] = []

    async def work(caller: str) -> None:
        async with slots.hold(caller):
            running.append(caller)
            await release.wait()

    tasks = [asyncio.ensure_future(work("sub:wim")) for _ in range(3)]
    tasks.append(asyncio.ensure_future(work("sub:kees")))

    async def settled() -> bool:
        return len(running) == 3

    await wait_until_async(settled, "the calls that may run have started")
    assert sorted(running) == ["sub:kees", "sub:wim", "sub:wim"], "wim's third call waits"
    assert slots.in_use("sub:wim") == 3
    release.set()
    await asyncio.gather(*tasks)
    assert running.count("sub:wim") == 3 and slots.in_use("sub:wim") == 0, "nothing kept"


async def test_a_call_may_retry_what_the_client_would_not(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    """An idempotent DELETE (erasure) through a client that retries reads only."""
    url, seen, _ = service
    async with httpx.AsyncClient() as http:
        reads_only = client(
            url,
            http,
            retry_methods={"GET"},
            retry_keyed_posts=False,
            breaker=Breaker(threshold=10, open_seconds=60),
        )
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("DELETE", "/fail")
        assert seen["DELETE /fail"] == 1, "the client's own rule"
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("DELETE", "/fail", retries=3)
        assert seen["DELETE /fail"] == 1 + 4, "three more tries"
        reply = await reads_only.request("DELETE", "/once", retries=1)
        with pytest.raises(ServiceUnavailable):
            await reads_only.request("GET", "/fail", retries=0)
    assert reply.ok and seen["DELETE /once"] == 2
    assert seen["GET /fail"] == 1, "the override also holds back"


async def test_a_stream_sends_and_reads_as_it_comes_and_holds_its_slot(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, seen, sent = service
    slots = CallerSlots(per_caller=1)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1000

    async with httpx.AsyncClient() as http:
        ideas = client(url, http, slots=slots)
        async with ideas.stream(
            "POST", "/count", token="abc", content=body(), caller="sub:wim"
        ) as response:
            assert slots.in_use("sub:wim") == 1, "held while the body is read"
            assert response.status_code == 200
            assert await response.aread() == b'{"bytes":4000}'
        assert response.is_closed and slots.in_use("sub:wim") == 0
        async with ideas.stream("GET", "/missing") as missing:
            assert missing.status_code == 404, "below 500: the caller's to read"
    assert sent[0]["authorization"] == "Bearer abc"
    assert ideas.calls == 2 and seen["POST /count"] == 1


async def test_a_failing_stream_counts_for_the_breaker_and_is_never_retried(
    service: tuple[str, Counter[str], list[dict[str, str]]],
) -> None:
    url, seen, _ = service
    breaker = Breaker(threshold=2, open_seconds=60)
    async with httpx.AsyncClient() as http:
        with pytest.raises(ServiceUnavailable):
            async with client(url, http, retries=3, breaker=breaker).stream("GET", "/fail"):
                raise AssertionError("a 5xx is not handed over")
        assert breaker.counted == 1 and seen["GET /fail"] == 1, "counted, and tried once"
        with pytest.raises(ServiceUnavailable):
            async with client("http://127.0.0.1:9", http, breaker=breaker).stream("GET", "/"):
                raise AssertionError("nobody answers there")
    assert breaker.current_state() == OPEN, "an unreachable service counts as well"
