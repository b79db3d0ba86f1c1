"""The one way the gateway calls a service: one kit ServiceClient per service over the shared
httpx client, the caller's own token forwarded, so each service checks rights itself.

Each call holds one of its caller's slots (kit/service_client.py) and passes the service's
circuit breaker (kit/breaker.py), which only a sick service opens. Only reads are retried: a
GraphQL mutation answers what its one call did (docs/graphql.md).

Resolvers call through these (every field using them requires a signed-in caller, or checks the
subscriber first):
- `ask`: the reply as it came; raises InvalidId and UpstreamUnavailable.
- `read` / `read_or_none`: for queries, which have no result union: a refusal, a malformed id
  or an unavailable service becomes a GraphQL error with a code.
- `change`: for mutations: the presented result, or the member of the union result that says
  why not (gateway/schema/errors.py maps the service's status).
- `stream`: a service's server-sent events, for subscriptions.
The per-request loaders (gateway/loaders.py) and the /xapi pass-through (gateway/xapi_proxy.py)
use the same clients. `Upstreams.health` alone goes around them, on purpose: an open breaker
must not hide a service's real readiness.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from strawberry.types import Info

from gateway.callers import current_caller
from gateway.schema.errors import from_reply, raise_for_query, raise_unavailable
from gateway.schema.errors import unavailable as unavailable_result
from gateway.schema.ids import InvalidId, id_path
from kit.breaker import Breaker
from kit.service_client import CallerSlots, CallMetrics, Reply, ServiceClient, ServiceUnavailable

if TYPE_CHECKING:  # the context holds the Upstreams defined here
    from gateway.schema.context import Context

# The names the gateway's resolvers know these by.
UpstreamUnavailable = ServiceUnavailable
UpstreamReply = Reply

METRICS = CallMetrics.register("werkvloer_gateway_upstream", "the gateway")

Presented = TypeVar("Presented")
Present = Callable[[Any], Presented]  # REST body → what the GraphQL field shows


@dataclass(frozen=True)
class UpstreamHealth:
    """A service's readiness as the gateway's health query shows it: `up`, the answer's
    `latency_ms` (None when it did not answer) and a `detail` that never names an address."""

    service: str
    up: bool
    latency_ms: float | None
    detail: str | None


class _BaseUrls(MutableMapping[str, str]):
    """The services' base URLs, read from and written to their clients (the health query
    builds its URLs from them; a test points one at a dead address)."""

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
        does not answer is reported down). Sent over the raw shared httpx client, around the
        service's ServiceClient on purpose: an open breaker or a caller's full slots must not
        hide the service's real readiness, and a probe is neither retried nor counted."""
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
    retries: int | None = None,
    first_wait_seconds: float = 0.05,
) -> UpstreamReply:
    """One call to a service with the caller's own token: services check it themselves.

    Reads (GET) are retried when the service does not answer or fails; writes never are, since
    a write that timed out may still have happened, unless `retries` says how many more tries
    this call gets (for a write the caller knows to be idempotent, such as an erasure), the
    first wait between them `first_wait_seconds` (doubling). An open breaker fails the call at
    once.
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
        retries=retries,
        first_wait_seconds=first_wait_seconds,
        caller=current_caller.get(),
    )


async def ask(
    info: Info[Context, None],
    service: str,
    method: str,
    path: str,
    *,
    slow: bool = False,
    ids: dict[str, object] | None = None,
    **kwargs: Any,
) -> UpstreamReply:
    """The service's reply (any status below 500) to one call made with the caller's token.

    `slow`: a reflection step that may wait for a language model gets the longer timeout.
    `ids`: `path` is a template whose `{name}` parts are these caller ids, parsed as UUIDs and
    quoted (gateway.schema.ids.id_path); never put caller text into `path` itself. `kwargs` go
    to `call` (`json`, `params`, `headers`, `retries`, `first_wait_seconds`).
    Raises InvalidId before any call when an id is malformed, and UpstreamUnavailable when the
    service cannot be reached, fails (5xx) or its breaker is open."""
    if ids:
        path = id_path(path, **ids)
    principal = info.context.principal
    assert principal is not None  # IsAuthenticated
    upstreams = info.context.upstreams
    timeout = upstreams.guide_timeout_seconds if slow else None
    return await call(
        upstreams, service, method, path, token=principal.token, timeout_seconds=timeout, **kwargs
    )


async def _ask_for_query(
    info: Info[Context, None], service: str, method: str, path: str, **kwargs: Any
) -> UpstreamReply:
    try:
        return await ask(info, service, method, path, **kwargs)
    except InvalidId as exc:
        exc.raise_for_query()
    except UpstreamUnavailable as exc:
        raise_unavailable(exc)


def _presented(reply: UpstreamReply, present: Present[Presented]) -> Presented:
    raise_for_query(reply)
    return present(reply.body)


async def read(
    info: Info[Context, None],
    service: str,
    path: str,
    present: Present[Presented],
    *,
    method: str = "GET",
    **kwargs: Any,
) -> Presented:
    """`present(body)` of the service's 2xx reply, for a query field.

    Raises GraphQLError, so that the other fields of the operation still resolve: code
    `BAD_USER_INPUT` for a malformed id in `ids` (no call made), `SERVICE_UNAVAILABLE` naming
    the service, or the service's own error code in capitals (e.g. `ROLE_REQUIRED`)."""
    return _presented(await _ask_for_query(info, service, method, path, **kwargs), present)


async def read_or_none(
    info: Info[Context, None], service: str, path: str, present: Present[Presented], **kwargs: Any
) -> Presented | None:
    """As `read` (GET), but None when the service answers 404: the object does not exist, or
    the caller may not see it, which a nullable field does not tell apart."""
    reply = await _ask_for_query(info, service, "GET", path, **kwargs)
    return None if reply.status == 404 else _presented(reply, present)


async def change(
    info: Info[Context, None],
    service: str,
    method: str,
    path: str,
    present: Present[Any],
    **kwargs: Any,
) -> Any:
    """`present(body)` of the service's 2xx reply, for a mutation; otherwise the member of its
    union result that says why: ValidationError `invalid_id` for a malformed id in `ids` (no
    call made), ServiceUnavailableError, or the service's refusal mapped by its status
    (gateway.schema.errors.from_reply: 404 NotFoundError, 403 ForbiddenError, 409
    ConflictError, 412/428 StaleVersionError, other 4xx ValidationError). Typed Any: each
    field's union names the members it shows. Raises GraphQLError `UNAUTHENTICATED` only when
    the service refuses the token (401)."""
    try:
        reply = await ask(info, service, method, path, **kwargs)
    except InvalidId as exc:
        return exc.as_result()
    except UpstreamUnavailable as exc:
        return unavailable_result(exc)
    return present(reply.body) if reply.ok else from_reply(reply)


async def change_one(
    info: Info[Context, None],
    method: str,
    action: str,
    id: object,
    *,
    service: str,
    collection: str,
    present: Present[Any],
    **kwargs: Any,
) -> Any:
    """`change` of the one object `id` (a caller's id, parsed as a UUID) of `collection`:
    `method` on `<collection>/{id}<action>`, e.g. PUT `/v1/ideas/{id}/support`. `collection`
    and `action` are the calling module's constants, never caller text. Returns and raises as
    `change`."""
    path = f"{collection}/{{id}}{action}"
    return await change(info, service, method, path, present, ids={"id": id}, **kwargs)


@asynccontextmanager
async def stream(
    info: Info[Context, None], service: str, path: str, *, json: Any
) -> AsyncIterator[httpx.Response]:
    """POST `json` as the caller and hold the streaming response (`Accept: text/event-stream`,
    the longer guide time limit) through the service's client (kit ServiceClient.stream: its
    breaker, never retried, one of the subscriber's slots while it streams); any status below
    500 is the caller's to read. Raises UpstreamUnavailable when the breaker is open, the
    service cannot be reached or answers 5xx, or the connection fails while the response is
    read."""
    principal = info.context.principal
    assert principal is not None  # the subscriber was checked first
    upstreams = info.context.upstreams
    async with upstreams.clients[service].stream(
        "POST",
        path,
        token=principal.token,
        json=json,
        headers={"Accept": "text/event-stream"},
        timeout_seconds=upstreams.guide_timeout_seconds,
        # A WebSocket's caller is its address (gateway/guards.py); the subscriber is verified
        # by now, so its streams count against its own slots, as its HTTP calls do.
        caller=f"sub:{principal.subject}",
    ) as response:
        yield response
