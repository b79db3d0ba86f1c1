"""The one way processes call each other: a shared httpx client with timeouts and the request id."""

from __future__ import annotations

import httpx

from kit.logging import REQUEST_ID_HEADER, current_request_id
from kit.observability import inject_trace


async def _add_request_id(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
    inject_trace(request.headers)


def make_client(
    *, timeout_seconds: float = 5.0, connect_timeout_seconds: float = 2.0
) -> httpx.AsyncClient:
    """Created once in a lifespan and closed on shutdown; never per request."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        event_hooks={"request": [_add_request_id]},
    )
