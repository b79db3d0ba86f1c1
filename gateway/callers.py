"""Who a request is for, as far as limits are concerned, and what one caller may hold at once.

A caller is the *verified* subject of the bearer token (`sub:<subject>`), or the client address
(`ip:<address>`) when no token was sent or it does not verify: a forged token carrying a
colleague's `sub` only ever spends the budget of the address it came from. Verification results
are cached briefly by the SHA-256 of the token, so checking every request stays cheap even under
a flood of forged tokens.

The caller is kept in a context variable for the life of the request, so the upstream client
(gateway/upstream.py, kit/service_client.py) can keep one caller's calls apart from another's: a
per-caller cap on calls in flight, and a breaker that does not let one caller's slow queries open
it for everyone.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar

from starlette.types import Scope

from kit.auth import TokenVerifier
from kit.errors import Unauthorized
from kit.service_client import INTERNAL

current_caller: ContextVar[str] = ContextVar("gateway_caller", default=INTERNAL)

# Refusals that say nothing about the token itself are not remembered: the keys may be back soon.
_TRANSIENT = frozenset({"token_keys_unavailable"})


def client_address(scope: Scope) -> str:
    """`ip:<address>` of the connection (uvicorn has applied trusted proxy headers already)."""
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:unknown"


def bearer_of(scope: Scope) -> str | None:
    """The bearer token of the request's Authorization header, or None."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return None
    return None


class VerifiedCallers:
    """Maps a request to its caller key, verifying the token with the process's verifier.

    Results (the subject, or "does not verify") are kept for `ttl_seconds` — never past the
    token's own `exp` — in a bounded LRU of `max_entries` token hashes. Raises nothing: a token
    that does not verify makes the request count against its address.
    """

    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._cache: OrderedDict[bytes, tuple[str | None, float]] = OrderedDict()

    async def caller(self, scope: Scope, verifier: TokenVerifier | None) -> str:
        """`sub:<verified subject>` or `ip:<address>`."""
        token = bearer_of(scope)
        if token is None or verifier is None:
            return client_address(scope)
        subject = await self.subject(token, verifier)
        return f"sub:{subject}" if subject is not None else client_address(scope)

    async def subject(self, token: str, verifier: TokenVerifier) -> str | None:
        """The token's verified `sub`, or None when the token does not verify."""
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            self._cache.move_to_end(key)
            return hit[0]
        try:
            claims = await verifier.verify(token)
        except Unauthorized as exc:
            if exc.code not in _TRANSIENT:
                self._remember(key, None, now + self.ttl_seconds)
            return None
        expires = now + self.ttl_seconds
        exp = claims.get("exp")
        if isinstance(exp, int | float):
            expires = min(expires, float(exp))
        subject = str(claims["sub"])
        self._remember(key, subject, expires)
        return subject

    def _remember(self, key: bytes, subject: str | None, expires: float) -> None:
        self._cache[key] = (subject, expires)
        self._cache.move_to_end(key)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
