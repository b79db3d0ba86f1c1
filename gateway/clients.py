"""Calls from the gateway to the services: one shared httpx client, the caller's token forwarded."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx


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
    ) -> None:
        self.http = http
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.health_timeout_seconds = health_timeout_seconds
        self.timeout_seconds = timeout_seconds
        self.guide_timeout_seconds = guide_timeout_seconds

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
    """One call to a service with the caller's own token: services check it themselves."""
    try:
        response = await upstreams.http.request(
            method,
            f"{upstreams.urls[service]}{path}",
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token}", **(headers or {})},
            timeout=timeout_seconds or upstreams.timeout_seconds,
        )
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(service) from exc
    if response.status_code >= 500:
        raise UpstreamUnavailable(service)
    body: Any = None
    if response.content:
        is_json = "json" in response.headers.get("content-type", "application/json")
        body = response.json() if is_json else response.text
    return UpstreamReply(response.status_code, body, response.headers)
