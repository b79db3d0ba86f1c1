"""Checking an LRS client's HTTP Basic secret without helping anyone guess it (OWASP API2).

- scrypt runs in a worker thread, at most `ANALYTICS_LRS_AUTH_CONCURRENCY` at once, so the event
  loop keeps answering other requests while secrets are checked;
- an unknown or revoked key costs the same scrypt as a wrong secret (against a dummy hash) and
  gets the same answer, so neither the message nor the time tells which keys exist;
- failures are counted per key and per client address over a sliding window; past
  `ANALYTICS_LRS_AUTH_MAX_FAILURES` the key or address gets 429 with `Retry-After` until its
  oldest failure leaves the window. A success never clears the address's count (an attacker
  with one valid client cannot reset it); it clears only the key's own count.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from functools import lru_cache

import anyio
import anyio.to_thread

from kit.errors import AppError, Unauthorized

INVALID_MESSAGE = "the LRS credentials are not valid"
LRS_REALM = "werkvloer-lrs"  # the HTTP Basic realm LMSs are challenged with
MAX_TRACKED = 20_000  # keys and addresses remembered at most (oldest forgotten first)


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<digest hex>` of `secret` (n=2^14, r=8, p=1; about 50 ms, 16 MB)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    """True when `secret` hashes to `stored` (constant-time compare); False for a bad hash."""
    try:
        _, salt, digest = stored.split("$")
        expected = hash_secret(secret, bytes.fromhex(salt)).split("$")[2]
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(expected, digest)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash no secret is known for: checked instead when the key is unknown or revoked."""
    return hash_secret(secrets.token_urlsafe(32))


def invalid_credentials() -> Unauthorized:
    """The one answer to every credential failure (401 `lrs_credentials_invalid`)."""
    return Unauthorized(
        INVALID_MESSAGE,
        code="lrs_credentials_invalid",
        headers={"WWW-Authenticate": f'Basic realm="{LRS_REALM}"'},
    )


class TooManyFailures(AppError):
    """429 `lrs_credentials_throttled`, with `Retry-After` in whole seconds."""

    status_code = 429
    code = "lrs_credentials_throttled"


class FailureThrottle:
    """Failed credential checks per bucket (`key:…`, `address:…`) over a sliding window.

    `clock` returns seconds (monotonic); tests pass their own."""

    def __init__(
        self, max_failures: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, bucket: str) -> deque[float]:
        times = self._failures.get(bucket)
        if times is None:
            return deque()
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if not times:
            del self._failures[bucket]
        return times

    def retry_after(self, *buckets: str) -> int | None:
        """Seconds until every given bucket may try again, or None when none is blocked."""
        waits = []
        for bucket in buckets:
            times = self._recent(bucket)
            if len(times) >= self.max_failures:
                waits.append(times[-self.max_failures] + self.window - self.clock())
        return max(1, math.ceil(max(waits))) if waits else None

    def begin(self, *buckets: str) -> float:
        """Counts an attempt as a failure in every bucket before the check runs (so concurrent
        guesses cannot all slip past the limit) and returns its stamp for `succeeded`.

        Raises `TooManyFailures` (nothing counted) when any bucket has used up its failures."""
        wait = self.retry_after(*buckets)
        if wait is not None:
            raise TooManyFailures(
                "too many failed LRS credential checks; try again later",
                details={"retry_after_seconds": wait},
                headers={"Retry-After": str(wait)},
            )
        now = self.clock()
        for bucket in buckets:
            times = self._failures.setdefault(bucket, deque())
            self._failures.move_to_end(bucket)
            times.append(now)
            while len(times) > self.max_failures:
                times.popleft()
        while len(self._failures) > MAX_TRACKED:
            self._failures.popitem(last=False)
        return now

    def succeeded(self, stamp: float, address_bucket: str, key_bucket: str) -> None:
        """The attempt at `stamp` was right: it no longer counts against the address (earlier
        failures there still do), and the key's own count is cleared."""
        times = self._failures.get(address_bucket)
        if times is not None and stamp in times:
            times.remove(stamp)
        self._failures.pop(key_bucket, None)


class SecretChecker:
    """Runs scrypt checks in worker threads, at most `concurrency` at once."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None

    async def matches(self, secret: str, stored: str | None) -> bool:
        """`secret_matches` off the event loop; a None `stored` checks against the dummy hash
        (same cost) and is always False."""
        if self._limiter is None:  # made on first use: it needs the running event loop
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        matched = await anyio.to_thread.run_sync(
            _check, secret, stored, limiter=self._limiter, abandon_on_cancel=False
        )
        return matched and stored is not None


def _check(secret: str, stored: str | None) -> bool:
    # In the worker thread (the dummy hash is made there too); `secret_matches` is looked up at
    # call time, so tests can watch or hold the check.
    return secret_matches(secret, stored if stored is not None else dummy_hash())
