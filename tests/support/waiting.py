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
from typing import TypeVar

import httpx

DEADLINE_SECONDS = float(os.environ.get("WERKVLOER_TEST_DEADLINE_SECONDS", "180"))
# One request to a test server may wait as long as any condition.
HTTP_TIMEOUT = httpx.Timeout(DEADLINE_SECONDS, connect=30.0)
T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    deadline: float = DEADLINE_SECONDS,
    interval: float = 0.1,
) -> T:
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
    condition: Callable[[], Awaitable[T]],
    what: str,
    *,
    deadline: float = DEADLINE_SECONDS,
    interval: float = 0.1,
) -> T:
    """`wait_until` for a coroutine condition, sleeping on the event loop between tries."""
    end = time.monotonic() + deadline
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline:g}s")
        await asyncio.sleep(interval)
