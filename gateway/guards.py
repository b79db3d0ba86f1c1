"""Checks on a GraphQL request before Strawberry sees it: body size, rate per caller, one
operation per request (no batching), the shape of the request, and — in trusted-documents
mode — only known operations. It also cancels the work of a client that has gone.

Refusals use the GraphQL error shape (`{"errors": [{"message", "extensions": {"code"}}]}`) with
a fitting HTTP status, so clients handle them like other GraphQL errors; Strawberry's own
plain-text refusals (unknown operation name, a mutation over GET …) are put in that shape too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.callers import VerifiedCallers, client_address, current_caller

GRAPHQL_PATH = "/graphql"
# Strawberry refuses some requests with plain text; their status decides the code.
PLAIN_TEXT_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


def graphql_error_body(code: str, message: str) -> bytes:
    """The GraphQL error shape for a request refused before execution."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


async def _refuse(
    send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> None:
    body = graphql_error_body(code, message)
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class TokenBuckets:
    """`per_minute` requests per caller, refilled continuously; bursts up to a minute's worth."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}

    def take(self, caller: str) -> float:
        """0 when allowed; else the seconds until a request would be."""
        now = time.monotonic()
        tokens, last = self.buckets.get(caller, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[caller] = (tokens - 1, now)
            if len(self.buckets) > 100_000:  # forget idle callers rather than grow forever
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 120}
            return 0.0
        self.buckets[caller] = (tokens, now)
        return (1 - tokens) / self.rate


def load_trusted(path: Path | None) -> dict[str, str] | None:
    """The manifest {sha256 hex: query} read from `path`, or None without one. Raises ValueError
    when a hash is not its query's (or the file is not JSON), OSError when it cannot be read."""
    if path is None:
        return None
    manifest: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    for digest, query in manifest.items():
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise ValueError(f"trusted document {digest[:12]}… does not match its query")
    return manifest


def request_shape_error(payload: Any) -> str | None:
    """What is wrong with a decoded POST body, or None (GraphQL over HTTP: an object with a
    string `query`, and `variables`/`extensions` objects and `operationName` a string if given)."""
    if not isinstance(payload, dict):
        return "the body must be a JSON object with a `query`"
    if not isinstance(payload.get("query"), str) or not payload["query"].strip():
        return "`query` must be a non-empty string"
    for name in ("variables", "extensions"):
        if not isinstance(payload.get(name), dict | None):
            return f"`{name}` must be a JSON object or null"
    if not isinstance(payload.get("operationName"), str | None):
        return "`operationName` must be a string or null"
    if _operation_kind(payload["query"], payload.get("operationName")) == "subscription":
        return SUBSCRIPTION_OVER_HTTP
    return None


SUBSCRIPTION_OVER_HTTP = "subscriptions run over WebSocket (graphql-transport-ws), not HTTP"


def _get_json_fault(scope: Scope) -> str | None:
    """What is wrong with the JSON-valued GET parameters (`variables`, `extensions`), or None:
    an integer beyond Python's conversion limit or nesting past the parser's recursion would
    otherwise fail inside Strawberry as a 500."""
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    for name in ("variables", "extensions"):
        for value in params.get(name, []):
            try:
                json.loads(value)
            except (ValueError, RecursionError):
                return f"`{name}` is not valid JSON"
    return None


def _get_is_subscription(scope: Scope) -> bool:
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    query, name = params.get("query", [""])[0], params.get("operationName", [None])[0]
    return bool(query) and _operation_kind(query, name) == "subscription"


@lru_cache(maxsize=512)
def _operation_kind(query: str, operation_name: str | None) -> str | None:
    """`query`, `mutation` or `subscription` for the operation a request would run; None when
    the document does not parse or names no such operation (Strawberry then says why)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for operation in operations:
        name = operation.name.value if operation.name else None
        if operation_name is None or name == operation_name:
            return operation.operation.value
    return None


class GraphQLGuard:
    """ASGI middleware in front of `/graphql`; see the module docstring.

    The rate limit is keyed on the verified token subject, else the client address
    (gateway/callers.py); the caller is kept in `current_caller` for the upstream client."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        per_minute: int,
        trusted: dict[str, str] | None,
        auth_cache_seconds: float = 60.0,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.buckets = TokenBuckets(per_minute)
        self.trusted = trusted
        self.callers = VerifiedCallers(auth_cache_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == GRAPHQL_PATH:
            reset = current_caller.set(client_address(scope))
            try:
                await self.app(scope, receive, send)
            finally:
                current_caller.reset(reset)
            return
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        verifier = getattr(getattr(scope.get("app"), "state", None), "verifier", None)
        caller = await self.callers.caller(scope, verifier)
        wait = self.buckets.take(caller)
        if wait:
            retry = str(max(1, math.ceil(wait)))
            await _refuse(send, 429, "RATE_LIMITED", "too many requests", {"Retry-After": retry})
            return
        body = await self._read_body(receive, send)
        if body is None:
            return
        if scope["method"] == "POST" and _is_json(scope):
            checked = self._check(body)
            if isinstance(checked, tuple):
                await _refuse(send, 400, checked[0], checked[1])
                return
            body = checked
        elif scope["method"] == "GET" and (fault := _get_json_fault(scope)):
            await _refuse(send, 400, "BAD_REQUEST", fault)
            return
        elif scope["method"] == "GET" and _get_is_subscription(scope):
            await _refuse(send, 400, "BAD_REQUEST", SUBSCRIPTION_OVER_HTTP)
            return
        elif scope["method"] == "GET" and self.trusted is not None and not self._trusted_get(scope):
            await _refuse(
                send,
                400,
                "PERSISTED_QUERY_NOT_FOUND",
                "only trusted documents run here: send a known documentId",
            )
            return
        reset = current_caller.set(caller)
        try:
            await _run_until_disconnect(self.app, scope, body, receive, _graphql_shaped(send))
        finally:
            current_caller.reset(reset)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None after refusing one over the limit with 413."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _refuse(
                    send,
                    413,
                    "REQUEST_TOO_LARGE",
                    f"requests are limited to {self.max_body_bytes} bytes",
                )
                return None
            if not message.get("more_body"):
                return bytes(body)

    def _check(self, body: bytes) -> bytes | tuple[str, str]:
        """The body to pass on (rewritten in trusted-documents mode), or (code, message)."""
        try:
            payload: Any = json.loads(body)
        except (ValueError, RecursionError):
            # Not JSON, not UTF-8, an integer beyond Python's conversion limit, or nesting
            # deeper than the parser's recursion: all a client's malformed request.
            return ("BAD_REQUEST", "the body is not valid JSON")
        if isinstance(payload, list):
            return ("BATCHING_DISABLED", "send one operation per request")
        if self.trusted is not None and isinstance(payload, dict):
            trusted = self._trusted(payload)
            if isinstance(trusted, tuple):
                return trusted
            payload["query"] = trusted
            body = json.dumps(payload).encode()
        problem = request_shape_error(payload)
        return ("BAD_REQUEST", problem) if problem else body

    def _trusted_get(self, scope: Scope) -> bool:
        """In trusted-documents mode a GET may carry only the text of a trusted document."""
        assert self.trusted is not None
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        queries = params.get("query") or [""]
        digest = hashlib.sha256(queries[0].encode()).hexdigest()
        return len(queries) == 1 and self.trusted.get(digest) == queries[0]

    def _trusted(self, payload: dict[str, Any]) -> str | tuple[str, str]:
        assert self.trusted is not None
        extensions = payload.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        digest = payload.get("documentId") or (
            persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        )
        if not isinstance(digest, str) or digest not in self.trusted:
            return (
                "PERSISTED_QUERY_NOT_FOUND",
                "only trusted documents run here: send a known documentId",
            )
        if payload.get("query") and payload["query"] != self.trusted[digest]:
            return ("PERSISTED_QUERY_MISMATCH", "the query text differs from the trusted document")
        return self.trusted[digest]


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


def _graphql_shaped(send: Send) -> Send:
    """Strawberry refuses malformed requests with a plain-text 4xx, and the shared platform
    code (authentication, kit/errors.py) with the REST error body; clients of `/graphql` get
    the GraphQL error shape with a code instead (HTTP status and challenge headers kept)."""
    held: dict[str, Any] = {}

    async def shaped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers", []))
            status = message["status"]
            kind = headers.get(b"content-type", b"")
            if 400 <= status < 500 and kind.startswith((b"text/plain", b"application/json")):
                held.update(start=message, status=status, body=b"", json=b"json" in kind)
                return
        elif held and message["type"] == "http.response.body":
            held["body"] += message.get("body", b"")
            if message.get("more_body"):
                return
            await _reshape(send, held)
            return
        await send(message)

    return shaped


_KEPT_HEADERS = (b"www-authenticate", b"retry-after")


async def _reshape(send: Send, held: dict[str, Any]) -> None:
    """Send a held 4xx answer in the GraphQL error shape (or unchanged when it already is)."""
    status, body = held["status"], held["body"]
    if not held["json"]:
        text = body.decode("utf-8", "replace")
        await _refuse(send, status, PLAIN_TEXT_CODES.get(status, "BAD_REQUEST"), text)
        return
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):  # already GraphQL-shaped, or not an error body
        await send(held["start"])
        await send({"type": "http.response.body", "body": body})
        return
    kept = {
        name.decode(): value.decode("latin-1")
        for name, value in held["start"].get("headers", [])
        if name.lower() in _KEPT_HEADERS
    }
    code = str(error.get("code") or "BAD_REQUEST").upper()
    await _refuse(send, status, code, str(error.get("message") or "refused"), kept)


async def _run_until_disconnect(
    app: ASGIApp, scope: Scope, body: bytes, receive: Receive, send: Send
) -> None:
    """Run `app` with `body` as the request; when the client disconnects before the response is
    complete, cancel it — and with it every upstream call it has in flight (httpx closes the
    connection, so the service sees its client go too). Starlette and Strawberry do not do
    this themselves: a plain request runs to its end whether anyone waits for it or not."""
    gone = asyncio.Event()
    answered = False
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def tracking_send(message: Message) -> None:
        nonlocal answered
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered = True

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    work = asyncio.ensure_future(app(scope, replay, tracking_send))
    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done() and not answered:
            work.cancel()  # the client went away before its answer: nobody will read it
        with contextlib.suppress(asyncio.CancelledError):
            await work
    finally:
        for task in (work, watcher):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
