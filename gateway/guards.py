"""Checks on a GraphQL request before Strawberry sees it: body size, rate per caller, one
operation per request (no batching), and — in trusted-documents mode — only known operations.

Refusals use the GraphQL error shape (`{"errors": [{"message", "extensions": {"code"}}]}`) with
a fitting HTTP status, so clients handle them like other GraphQL errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

GRAPHQL_PATH = "/graphql"


async def _refuse(
    send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
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


def _caller(scope: Scope) -> str:
    """The token's subject when one was sent (not verified here: a forged subject only spends
    its own budget, and the token is checked before anything runs), else the address."""
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value.lower().startswith(b"bearer "):
            parts = value.split(b".")
            if len(parts) == 3:
                try:
                    padded = parts[1] + b"=" * (-len(parts[1]) % 4)
                    claims = json.loads(base64.urlsafe_b64decode(padded))
                    return f"sub:{claims.get('sub')}"
                except (ValueError, TypeError):
                    break
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


def load_trusted(path: Path | None) -> dict[str, str] | None:
    """The manifest {sha256: query}; every hash is checked against its query."""
    if path is None:
        return None
    manifest: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    for digest, query in manifest.items():
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise ValueError(f"trusted document {digest[:12]}… does not match its query")
    return manifest


class GraphQLGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        per_minute: int,
        trusted: dict[str, str] | None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.buckets = TokenBuckets(per_minute)
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_caller(scope))
        if wait:
            retry = str(max(1, math.ceil(wait)))
            await _refuse(send, 429, "RATE_LIMITED", "too many requests", {"Retry-After": retry})
            return
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                await _refuse(
                    send,
                    413,
                    "REQUEST_TOO_LARGE",
                    f"requests are limited to {self.max_body_bytes} bytes",
                )
                return
            if not message.get("more_body"):
                break
        rewritten = self._check(bytes(body))
        if isinstance(rewritten, tuple):
            await _refuse(send, 400, rewritten[0], rewritten[1])
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": rewritten, "more_body": False}

        await self.app(scope, replay, send)

    def _check(self, body: bytes) -> bytes | tuple[str, str]:
        try:
            payload: Any = json.loads(body) if body else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            return body  # Strawberry answers malformed JSON itself
        if isinstance(payload, list):
            return ("BATCHING_DISABLED", "send one operation per request")
        if self.trusted is None or not isinstance(payload, dict):
            return body
        extensions = payload.get("extensions") or {}
        digest = payload.get("documentId") or (extensions.get("persistedQuery") or {}).get(
            "sha256Hash"
        )
        if not digest or digest not in self.trusted:
            return (
                "PERSISTED_QUERY_NOT_FOUND",
                "only trusted documents run here: send a known documentId",
            )
        if payload.get("query") and payload["query"] != self.trusted[digest]:
            return ("PERSISTED_QUERY_MISMATCH", "the query text differs from the trusted document")
        payload["query"] = self.trusted[digest]
        return json.dumps(payload).encode()
