"""Waiting in tests: for a condition, never for a time. A busy machine only makes a test slower,
never makes it fail, because every wait polls its condition against one generous deadline.

`WERKVLOER_TEST_DEADLINE_SECONDS` (default 180) bounds every wait: a process coming up, a job
finishing, a message arriving, one HTTP request to a test server.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import httpx

DEADLINE_SECONDS = float(os.environ.get("WERKVLOER_TEST_DEADLINE_SECONDS", "180"))
# One request to a test server may wait as long as any condition.
HTTP_TIMEOUT = httpx.Timeout(DEADLINE_SECONDS, connect=30.0)


def wait_until(
    condition: Callable[[], object],
    what: str,
    *,
    deadline: float = DEADLINE_SECONDS,
    interval: float = 0.1,
) -> object:
    """Call `condition` until it returns something truthy and return that; raise
    AssertionError naming `what` when `deadline` seconds pass first. `condition` may raise to
    stop the wait early (for example when the process it waits for has died)."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:g}s")
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], Awaitable[object]],
    what: str,
    *,
    deadline: float = DEADLINE_SECONDS,
    interval: float = 0.1,
) -> object:
    """`wait_until` for a coroutine condition, sleeping on the event loop between tries."""
    end = time.monotonic() + deadline
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:g}s")
        await asyncio.sleep(interval)


def http_client() -> httpx.Client:
    """A client for test servers whose requests wait up to the test deadline (httpx's default
    of 5 s is too short for a first request on a busy machine)."""
    return httpx.Client(timeout=HTTP_TIMEOUT)
