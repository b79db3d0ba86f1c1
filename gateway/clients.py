"""Calls from the gateway to the services: one kit ServiceClient per service over the shared
httpx client, the caller's token forwarded.

Each call holds one of its caller's slots (kit/service_client.py) and passes the service's
circuit breaker (kit/breaker.py), which only a sick service opens. Only reads are retried: a
GraphQL mutation answers what its one call did (docs/graphql.md)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.callers import current_caller
from kit.breaker import Breaker
from kit.service_client import CallerSlots, CallMetrics, Reply, ServiceClient, ServiceUnavailable

# The names the gateway's resolvers know these by.
UpstreamUnavailable = ServiceUnavailable
UpstreamReply = Reply

METRICS = CallMetrics.register("werkvloer_gateway_upstream", "the gateway")


@dataclass(frozen=True)
class UpstreamHealth:
    """A service's readiness as the gateway's health query shows it: `up`, the answer's
    `latency_ms` (None when it did not answer) and a `detail` that never names an address."""

    service: str
    up: bool
    latency_ms: float | None
    detail: str | None


class _BaseUrls(MutableMapping[str, str]):
    """The services' base URLs, read from and written to their clients (the xAPI pass-through
    and subscriptions build URLs from them; a test points one at a dead address)."""

    def __init__(self, clients: dict[str, ServiceClient]) -> None:
        self._clients = clients

    def __getitem__(self, service: str) -> str:
        return self._clients[service].base_url

    def __setitem__(self, service: str, url: str) -> None:
        self._clients[service].base_url = url.rstrip("/")

    def __delitem__(self, service: str) -> None:
        raise TypeError("the services behind the gateway are fixed when it starts")

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)


class Upstreams:
    """The three services behind the gateway, by name: their clients (`clients`), base URLs
    (`urls`), breakers, the callers' shared slots and the time limits of the gateway's calls."""

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
        self.http, self.health_timeout_seconds = http, health_timeout_seconds
        self.timeout_seconds, self.guide_timeout_seconds = timeout_seconds, guide_timeout_seconds
        self.subscription_poll_seconds = subscription_poll_seconds
        self.slots = CallerSlots(calls_per_caller)
        self.clients = {
            name: ServiceClient(
                name,
                url,
                http,
                timeout_seconds=timeout_seconds,
                retries=read_retries,
                retry_methods={"GET"},
                retry_keyed_posts=False,
                breaker=Breaker(breaker_failures, breaker_open_seconds),
                slots=self.slots,
                metrics=METRICS,
            )
            for name, url in urls.items()
        }
        self.urls: MutableMapping[str, str] = _BaseUrls(self.clients)

    @property
    def breakers(self) -> dict[str, Breaker]:
        """Each service's circuit breaker, by service name."""
        return {name: client.breaker for name, client in self.clients.items()}

    @property
    def calls(self) -> Counter[str]:
        """Calls that reached each service so far (services never called are left out)."""
        return Counter({name: c.calls for name, c in self.clients.items() if c.calls})

    async def health(self, service: str) -> UpstreamHealth:
        """`service`'s /readyz within `health_timeout_seconds`; never raises (a service that
        does not answer is reported down)."""
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
    return await upstreams.clients[service].request(
        method,
        path,
        token=token,
        json=json,
        params=params,
        headers=headers,
        timeout_seconds=timeout_seconds,
        caller=current_caller.get(),
    )
