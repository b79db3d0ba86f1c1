"""Calls from the gateway to the services: one shared httpx client, the caller's token forwarded."""

from __future__ import annotations

import time
from dataclasses import dataclass

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
        self, http: httpx.AsyncClient, urls: dict[str, str], health_timeout_seconds: float
    ) -> None:
        self.http = http
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.health_timeout_seconds = health_timeout_seconds

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
