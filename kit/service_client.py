"""The one way a process calls another service: `ServiceClient`, one per named service.

Each call has a time limit, forwards the caller's bearer token, may carry an Idempotency-Key,
passes the service's circuit breaker (kit/breaker.py) and, when the process caps calls per
caller, holds one of the caller's slots. Calls that are safe to repeat are retried when the
service does not answer or fails: the idempotent methods (RFC 9110 §9.2.2: GET, HEAD, PUT,
DELETE) and a POST that carries an Idempotency-Key (the service answers a repeated key with
what the first call made, as the IETF Idempotency-Key draft specifies). The request id and
`traceparent` come from the shared httpx client's hooks (kit/http.py). An answer below 500 is
the caller's to read; anything else is one `ServiceUnavailable`, which names the service and
never its address. `request` reads the whole answer; `stream` hands over the open response for
server-sent events and pass-through bodies, and is never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import Counter, Histogram

from kit import errors
from kit.breaker import Breaker, Outcome, Ticket, outcome_of

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"
INTERNAL = "internal"  # the caller of calls made outside any request (background work)


class ServiceUnavailable(errors.ServiceUnavailable):
    """503 `service_unavailable`: `service` could not be reached, failed (5xx) or its breaker
    is open. The message names the service only, never its URL: it may reach API clients."""

    def __init__(self, service: str) -> None:
        super().__init__(f"the {service} service is unavailable")
        self.service = service


@dataclass(frozen=True)
class Reply:
    """A service's answer below 500: `status`, `body` (parsed JSON, else text; None when
    empty) and `headers`."""

    status: int
    body: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class CallMetrics:
    """Prometheus metrics of one process's calls to services: `<prefix>_requests_total` by
    service and outcome (`ok`, `error`, `breaker_open`) and `<prefix>_duration_seconds` by
    service. Register once per process (module level): Prometheus refuses a name twice."""

    requests: Counter
    duration: Histogram

    @classmethod
    def register(cls, prefix: str, caller: str) -> CallMetrics:
        """Create and register both metrics; `caller` names the calling process in their help
        text ("the gateway"). Raises ValueError when `prefix` is registered already."""
        return cls(
            Counter(
                f"{prefix}_requests_total",
                f"Calls from {caller} to a service, by outcome (ok, error, refused by the "
                "breaker).",
                ["service", "outcome"],
            ),
            Histogram(
                f"{prefix}_duration_seconds",
                f"Time a service took to answer {caller}.",
                ["service"],
                buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            ),
        )


class CallerSlots:
    """At most `per_caller` calls in flight per caller; further calls wait their turn.

    One caller's fifteen aliased searches then occupy a bounded share of a service, and other
    callers' calls are not queued behind them. Idle callers hold no memory.
    """

    def __init__(self, per_caller: int) -> None:
        self.per_caller = max(1, per_caller)
        self._slots: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, caller: str) -> AsyncIterator[None]:
        """Wait for a free slot of `caller`, hold it for the block."""
        semaphore, users = self._slots.get(caller, (asyncio.Semaphore(self.per_caller), 0))
        self._slots[caller] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._slots[caller]
            if users <= 1:
                del self._slots[caller]
            else:
                self._slots[caller] = (semaphore, users - 1)

    def in_use(self, caller: str) -> int:
        """How many calls of `caller` hold or wait for a slot (for tests and metrics)."""
        return self._slots.get(caller, (None, 0))[1]


class ServiceClient:
    """Calls to one named service at `base_url` over the process's shared httpx client.

    `timeout_seconds` bounds each try; `retries` more tries (after 50 ms, 100 ms ...) follow a
    failed call whose method is in `retry_methods`, or a POST with an Idempotency-Key when
    `retry_keyed_posts`. `breaker` (default: opens after 5 counted failures for 10 s) is this
    service's alone; `slots`, when given, is shared by every client of the process. `calls`
    counts the exchanges that reached the service (for tests and benchmarks)."""

    def __init__(
        self,
        service: str,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        timeout_seconds: float = 5.0,
        retries: int = 1,
        retry_methods: Collection[str] = IDEMPOTENT_METHODS,
        retry_keyed_posts: bool = True,
        breaker: Breaker | None = None,
        slots: CallerSlots | None = None,
        metrics: CallMetrics | None = None,
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.retry_methods = frozenset(m.upper() for m in retry_methods)
        self.retry_keyed_posts = retry_keyed_posts
        self.breaker = breaker or Breaker(threshold=5, open_seconds=10.0)
        self.slots = slots
        self.metrics = metrics
        self.calls = 0

    def retried(self, method: str, headers: dict[str, str]) -> bool:
        """Whether a failed call with this method and these headers is tried again."""
        method = method.upper()
        if method in self.retry_methods:
            return True
        keyed = any(name.lower() == IDEMPOTENCY_KEY.lower() for name in headers)
        return method == "POST" and keyed and self.retry_keyed_posts

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout_seconds: float | None = None,
        retries: int | None = None,
        first_wait_seconds: float = 0.05,
        caller: str = INTERNAL,
    ) -> Reply:
        """`method` `path` (built with kit.http.url_path) with `token` as the bearer token and
        `idempotency_key` as the Idempotency-Key header (for a create). `caller` keeps one
        caller's failures and slots apart from another's (kit/breaker.py). `retries` overrides
        the client's rule for this call: that many more tries whatever the method, for a
        caller that knows this call is safe to repeat (None: `retried` decides); the waits
        between tries start at `first_wait_seconds` and double.

        Returns the Reply for any status below 500. Raises ServiceUnavailable (503) when the
        service cannot be reached, times out (`timeout_seconds`, default the client's) or
        answers 5xx on every try, or when its breaker is open (then nothing is sent).
        Cancelling the awaiting task closes the connection to the service."""
        sent = _headers(headers, token, idempotency_key)
        if retries is None:
            retries = self.retries if self.retried(method, sent) else 0
        timeout = timeout_seconds or self.timeout_seconds
        async with self._slot(caller):
            for attempt in range(1 + retries):
                response = await self._exchange(
                    self._ticket(),
                    caller,
                    lambda: self.http.request(
                        method,
                        f"{self.base_url}{path}",
                        json=json,
                        params=params,
                        headers=sent,
                        timeout=timeout,
                    ),
                )
                if response is not None:
                    return Reply(response.status_code, _body(response), response.headers)
                if attempt < retries:
                    await asyncio.sleep(first_wait_seconds * 2**attempt)
        raise ServiceUnavailable(self.service)

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        timeout_seconds: float | None = None,
        caller: str = INTERNAL,
    ) -> AsyncIterator[httpx.Response]:
        """`method` `path` as `request` does, with the response opened as a stream: yields the
        httpx.Response once its headers arrived, for the block to read (`aiter_bytes`,
        `aiter_lines`); it is closed when the block ends. `content` may be an async iterator
        of bytes, sent as it comes. The call holds one of `caller`'s slots for the whole
        block, and is never retried: a streamed body cannot be sent twice. The breaker hears
        the outcome when the headers arrive (or the call fails or is cancelled before).
        `timeout_seconds` bounds each step (connect, each read), not the whole stream.

        Yields any status below 500. Raises ServiceUnavailable (503) when the breaker is open
        (nothing sent), when the service cannot be reached, times out or answers 5xx, and
        when the connection fails while the block reads the response."""
        sent = _headers(headers, token, None)
        timeout = timeout_seconds or self.timeout_seconds

        async def send() -> httpx.Response:
            outgoing = self.http.build_request(
                method,
                f"{self.base_url}{path}",
                content=content,
                json=json,
                params=params,
                headers=sent,
                timeout=timeout,
            )
            return await self.http.send(outgoing, stream=True)

        async with self._slot(caller):
            response = await self._exchange(self._ticket(), caller, send)
            if response is None:
                raise ServiceUnavailable(self.service)
            try:
                yield response
            except httpx.HTTPError as exc:
                raise ServiceUnavailable(self.service) from exc
            finally:
                await response.aclose()

    @asynccontextmanager
    async def _slot(self, caller: str) -> AsyncIterator[None]:
        if self.slots is None:
            yield
            return
        async with self.slots.hold(caller):
            yield

    def _ticket(self) -> Ticket:
        """The breaker's ticket for one exchange; ServiceUnavailable when it is open."""
        ticket = self.breaker.acquire()
        if ticket is None:
            if self.metrics is not None:
                self.metrics.requests.labels(self.service, "breaker_open").inc()
            raise ServiceUnavailable(self.service)
        return ticket

    async def _exchange(
        self, ticket: Ticket, caller: str, send: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response | None:
        """One HTTP exchange (`send`); the response when it is not a failure, else None (a 5xx
        response is closed). Its duration runs until the response, or its headers when
        streamed. The breaker always hears how it ended, also when the caller's task is
        cancelled mid-call."""
        outcome = Outcome.ABANDONED
        started = time.perf_counter()
        try:
            try:
                response = await send()
            except httpx.HTTPError as exc:
                outcome = outcome_of(error=exc)
                return None
            outcome = outcome_of(status=response.status_code)
            if response.status_code < 500:
                return response
            await response.aclose()
            return None
        finally:
            self.breaker.release(ticket, outcome, caller)
            if outcome is not Outcome.ABANDONED:
                self.calls += 1
                if self.metrics is not None:
                    self.metrics.duration.labels(self.service).observe(
                        time.perf_counter() - started
                    )
                    label = "ok" if outcome is Outcome.OK else "error"
                    self.metrics.requests.labels(self.service, label).inc()


def _headers(
    headers: dict[str, str] | None, token: str | None, idempotency_key: str | None
) -> dict[str, str]:
    """`headers` plus the bearer token and the Idempotency-Key, when given."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if idempotency_key is not None:
        sent[IDEMPOTENCY_KEY] = idempotency_key
    return sent


def _body(response: httpx.Response) -> Any:
    """JSON when the service says so (or says nothing), else text; None for an empty body."""
    if not response.content:
        return None
    if "json" in response.headers.get("content-type", "application/json"):
        return response.json()
    return response.text
