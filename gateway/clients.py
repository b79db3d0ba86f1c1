"""Calls from the gateway to the services: one shared httpx client, the caller's token forwarded."""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Counter_
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import Counter, Histogram


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
    ) -> None:
        self.http = http
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.health_timeout_seconds = health_timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.guide_timeout_seconds = guide_timeout_seconds
        self.read_retries = read_retries
        self.subscription_poll_seconds = subscription_poll_seconds
        self.breakers = {name: Breaker(breaker_failures, breaker_open_seconds) for name in urls}
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


class Breaker:
    """Per service: after `failures` failed calls in a row, calls fail at once for
    `open_seconds` (then one call is let through to test the water)."""

    def __init__(self, failures: int, open_seconds: float) -> None:
        self.threshold, self.open_seconds = failures, open_seconds
        self.failures, self.open_until = 0, 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def record(self, ok: bool) -> None:
        if ok:
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.open_seconds
            self.failures = 0


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
    a write that timed out may still have happened. An open breaker fails the call at once."""
    breaker = upstreams.breakers[service]
    attempts = 1 + (upstreams.read_retries if method == "GET" else 0)
    for attempt in range(attempts):
        if not breaker.allows():
            UPSTREAM_CALLS.labels(service, "breaker_open").inc()
            raise UpstreamUnavailable(service)
        started = time.perf_counter()
        try:
            response = await upstreams.http.request(
                method,
                f"{upstreams.urls[service]}{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
                timeout=timeout_seconds or upstreams.timeout_seconds,
            )
            failed = response.status_code >= 500
        except httpx.HTTPError:
            failed, response = True, None
        UPSTREAM_LATENCY.labels(service).observe(time.perf_counter() - started)
        UPSTREAM_CALLS.labels(service, "error" if failed else "ok").inc()
        upstreams.calls[service] += 1
        breaker.record(not failed)
        if not failed and response is not None:
            body: Any = None
            if response.content:
                is_json = "json" in response.headers.get("content-type", "application/json")
                body = response.json() if is_json else response.text
            return UpstreamReply(response.status_code, body, response.headers)
        if attempt + 1 < attempts:
            await asyncio.sleep(0.05 * 2**attempt)
    raise UpstreamUnavailable(service)
