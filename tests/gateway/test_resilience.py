"""Reads are retried, writes are not, and a service that keeps failing is left alone for a
while (circuit breaker) instead of being called by every request; the breaker half-opens for
exactly one trial, only a sick service opens it (not one caller's slow queries), and a client
that goes away takes its upstream calls with it."""

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
from gateway.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, Outcome, outcome_of
from gateway.callers import CallerSlots, current_caller
from gateway.clients import Upstreams, UpstreamUnavailable, call
from gateway.settings import GatewaySettings
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


class Clock:
    """A clock the test moves by hand: no test waits for real seconds."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def opened_breaker(clock: Clock) -> Breaker:
    breaker = Breaker(threshold=2, open_seconds=10, clock=clock)
    for _ in range(2):
        ticket = breaker.acquire()
        assert ticket is not None
        breaker.release(ticket, Outcome.DOWN, "wim")
    assert breaker.current_state() == OPEN and breaker.acquire() is None
    return breaker


def test_after_the_open_period_exactly_one_trial_passes_and_its_success_closes() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 9.9
    assert breaker.acquire() is None, "still open"
    clock.now += 0.2
    assert breaker.current_state() == HALF_OPEN
    trial = breaker.acquire()
    assert trial is not None and trial.trial
    assert breaker.acquire() is None, "only one trial while it runs"
    breaker.release(trial, Outcome.OK, "kees")
    assert breaker.current_state() == CLOSED
    assert breaker.acquire() is not None and breaker.acquire() is not None


def test_a_failed_trial_opens_the_breaker_again_for_a_full_period() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 10.5
    trial = breaker.acquire()
    assert trial is not None and trial.trial
    breaker.release(trial, Outcome.CALLER_FAILURE, "kees")
    assert breaker.current_state() == OPEN and breaker.acquire() is None
    clock.now += 9.9
    assert breaker.acquire() is None, "a new open period started at the failed trial"
    clock.now += 0.2
    assert breaker.acquire() is not None


def test_an_abandoned_trial_lets_the_next_call_try() -> None:
    clock = Clock()
    breaker = opened_breaker(clock)
    clock.now += 11
    trial = breaker.acquire()
    assert trial is not None
    breaker.release(trial, Outcome.ABANDONED, "wim")
    assert breaker.current_state() == HALF_OPEN
    assert (retry := breaker.acquire()) is not None and retry.trial


def test_one_callers_time_outs_count_once_and_a_sick_service_counts_every_failure() -> None:
    breaker = Breaker(threshold=3, open_seconds=10, clock=Clock())
    for _ in range(20):
        ticket = breaker.acquire()
        assert ticket is not None, "one caller's slow queries never open it"
        breaker.release(ticket, Outcome.CALLER_FAILURE, "sub:wim")
    for caller in ("sub:kees", "sub:anna"):
        ticket = breaker.acquire()
        assert ticket is not None
        breaker.release(ticket, Outcome.CALLER_FAILURE, caller)
    assert breaker.current_state() == OPEN, "three callers failing: the service is sick"
    down = Breaker(threshold=3, open_seconds=10, clock=Clock())
    for _ in range(3):
        ticket = down.acquire()
        assert ticket is not None
        down.release(ticket, Outcome.DOWN, "sub:wim")
    assert down.current_state() == OPEN, "unreachable counts every time, whoever asks"


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, Outcome.OK),
        (404, None, Outcome.OK),
        (500, None, Outcome.CALLER_FAILURE),
        (503, None, Outcome.DOWN),
        (None, httpx.ReadTimeout("slow"), Outcome.CALLER_FAILURE),
        (None, httpx.ConnectTimeout("no route"), Outcome.DOWN),
        (None, httpx.ConnectError("refused"), Outcome.DOWN),
    ],
)
def test_what_counts_as_a_failure(
    status: int | None, error: BaseException | None, outcome: Outcome
) -> None:
    assert outcome_of(status, error) is outcome


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
