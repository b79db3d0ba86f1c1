"""Work for a caller who has gone is not done.

Starlette runs a request to its end whether anyone still waits for the answer or not. For the
expensive reads (embedding text, similarity, retrieval) that is a resource-consumption hole
(OWASP API4): a caller who times out and retries costs the work twice, and in a chain
(gateway → one service → another) the last service keeps working long after the first caller gave
up. Two tools:

- `ensure_connected(request)`: a cheap check before starting a step;
- `until_disconnected(request, work)`: runs `work` and cancels it the moment the client
  disconnects, which also closes the httpx calls it has in flight, so the next service in the
  chain sees its own client go.

Use them on reads and on writes that are safe to abandon (a cancelled write rolls back with its
session). A gone client gets 499 `client_disconnected` (nginx's code); nobody reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Request

from kit.errors import AppError

T = TypeVar("T")


class ClientGone(AppError):
    """The client disconnected; nobody reads the answer (status 499, as nginx logs it)."""

    status_code = 499
    code = "client_disconnected"


async def ensure_connected(request: Request) -> None:
    """Raise `ClientGone` when the client has already disconnected (checked without waiting)."""
    if await request.is_disconnected():
        raise ClientGone("the client disconnected; the work was not started")


async def _disconnected(request: Request) -> None:
    """Returns when the ASGI server reports `http.disconnect` (the body must have been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def until_disconnected(request: Request, work: Awaitable[T]) -> T:
    """The result of `work`, or `ClientGone` as soon as the client disconnects first (then
    `work` is cancelled and awaited, so its clean-up runs before this returns).

    Call it after the route has its body (FastAPI has parsed it by then): the watcher reads
    the request's remaining messages, and only a disconnect can follow a complete body."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise ClientGone("the client disconnected; the work was abandoned")
    finally:
        for pending in (task, watcher):
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
