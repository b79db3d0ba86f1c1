"""Calls from the gateway to the services: one shared httpx client, the caller's token forwarded.

Each call holds one of its caller's slots (gateway/callers.py) and passes the service's circuit
breaker (gateway/breaker.py), which only a sick service opens."""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Counter_
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import Counter, Histogram

from gateway.breaker import Breaker, Outcome, Ticket, outcome_of
from gateway.callers import CallerSlots, current_caller


@dataclass(frozen=True)
class UpstreamHealth:
    service: str
    up: bool
    latency_ms: float | None
    detail: str | None


class Upstreams:
    """The three services behind the gateway, by name."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        urls: dict[str, str],
        health_timeout_seconds: float,
        timeout_seconds: float = 5.0,
        guide_timeout_seconds: float = 45.0,
        read_retries: int = 1,
        breaker_failures: int = 5,
        breaker_open_seconds: float = 10.0,
        subscription_poll_seconds: float = 2.0,
        calls_per_caller: int = 8,
    ) -> None:
        self.http = http
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.health_timeout_seconds = health_timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.guide_timeout_seconds = guide_timeout_seconds
        self.read_retries = read_retries
        self.subscription_poll_seconds = subscription_poll_seconds
        self.breakers = {name: Breaker(breaker_failures, breaker_open_seconds) for name in urls}
        self.slots = CallerSlots(calls_per_caller)
        self.calls: Counter_[str] = Counter_()  # per service, for tests and benchmarks

    async def health(self, service: str) -> UpstreamHealth:
        started = time.perf_counter()
        try:
            response = await self.http.get(
                f"{self.urls[service]}/readyz", timeout=self.health_timeout_seconds
            )
        except httpx.HTTPError as exc:
            # Name the failure, never the internal URL: this text reaches API clients.
            return UpstreamHealth(service, False, None, f"unreachable ({type(exc).__name__})")
        latency = round((time.perf_counter() - started) * 1000, 2)
        if response.status_code != 200:
            return UpstreamHealth(
                service, False, latency, f"not ready (HTTP {response.status_code})"
            )
        return UpstreamHealth(service, True, latency, None)


class UpstreamUnavailable(Exception):
    """The service could not be reached or failed on its side; names the service only."""

    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service is unavailable")
        self.service = service


@dataclass(frozen=True)
class UpstreamReply:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


UPSTREAM_CALLS = Counter(
    "werkvloer_gateway_upstream_requests_total",
    "Calls from the gateway to a service, by outcome (ok, error, refused by the breaker).",
    ["service", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "werkvloer_gateway_upstream_duration_seconds",
    "Time a service took to answer the gateway.",
    ["service"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


async def call(
    upstreams: Upstreams,
    service: str,
    method: str,
    path: str,
    *,
    token: str,
    json: Any = None,
    params: Any = None,
    headers: dict[str, str] | None = None,
    timeout_seconds: float | None = None,
) -> UpstreamReply:
    """One call to a service with the caller's own token: services check it themselves.

    Reads (GET) are retried when the service does not answer or fails; writes never are, since
    a write that timed out may still have happened. An open breaker fails the call at once.
    The call waits for a free slot of its caller (`current_caller`) first. Cancelling the
    awaiting task (the client went away) closes the connection to the service.
    Returns the reply for any status below 500; raises UpstreamUnavailable otherwise."""
    breaker = upstreams.breakers[service]
    caller = current_caller.get()
    attempts = 1 + (upstreams.read_retries if method == "GET" else 0)
    request = {
        "json": json,
        "params": params,
        "headers": {"Authorization": f"Bearer {token}", **(headers or {})},
        "timeout": timeout_seconds or upstreams.timeout_seconds,
    }
    async with upstreams.slots.hold(caller):
        for attempt in range(attempts):
            ticket = breaker.acquire()
            if ticket is None:
                UPSTREAM_CALLS.labels(service, "breaker_open").inc()
                raise UpstreamUnavailable(service)
            response = await _attempt(upstreams, service, ticket, caller, method, path, request)
            if response is not None:
                body: Any = None
                if response.content:
                    is_json = "json" in response.headers.get("content-type", "application/json")
                    body = response.json() if is_json else response.text
                return UpstreamReply(response.status_code, body, response.headers)
            if attempt + 1 < attempts:
                await asyncio.sleep(0.05 * 2**attempt)
    raise UpstreamUnavailable(service)


async def _attempt(
    upstreams: Upstreams,
    service: str,
    ticket: Ticket,
    caller: str,
    method: str,
    path: str,
    request: dict[str, Any],
) -> httpx.Response | None:
    """One HTTP exchange; the response when it is not a failure, else None. The breaker always
    hears how it ended, also when the caller's task is cancelled mid-call."""
    breaker = upstreams.breakers[service]
    outcome = Outcome.ABANDONED
    started = time.perf_counter()
    try:
        try:
            response = await upstreams.http.request(
                method, f"{upstreams.urls[service]}{path}", **request
            )
        except httpx.HTTPError as exc:
            outcome = outcome_of(error=exc)
            return None
        outcome = outcome_of(status=response.status_code)
        return response if response.status_code < 500 else None
    finally:
        breaker.release(ticket, outcome, caller)
        if outcome is not Outcome.ABANDONED:
            UPSTREAM_LATENCY.labels(service).observe(time.perf_counter() - started)
            UPSTREAM_CALLS.labels(service, "ok" if outcome is Outcome.OK else "error").inc()
            upstreams.calls[service] += 1
