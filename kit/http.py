"""The shared HTTP transport: one httpx client per process with timeouts, the request id and
`traceparent`, and `url_path`, the one way a path with variable parts is built. The one way to
call another service is kit/service_client.py; it runs over this client, as do the calls that
go around it on purpose (readiness probes, deliveries from a leased queue)."""

from __future__ import annotations

from urllib.parse import quote

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


class UnsafePathSegment(ValueError):
    """A value that cannot stand as one path segment even when quoted: empty, `.` or `..`."""


def url_path(template: str, **segments: object) -> str:
    """The path `template` with each `{name}` replaced by one percent-encoded segment.

    Returns e.g. `url_path("/items/{id}/parts", id="a/b?c")` → `/items/a%2Fb%3Fc/parts`:
    every character outside RFC 3986's unreserved set is encoded (`urllib.parse.quote` with
    `safe=""`), so a value can never add a segment, a query or a fragment. Raises
    UnsafePathSegment for an empty value, `.` or `..`, which encoding leaves as they are and
    URL normalisation would collapse. Callers parse ids to their type first; this is the second
    line of defence. Query parameters go through httpx `params=`, never into the template.
    """
    quoted: dict[str, str] = {}
    for name, value in segments.items():
        text = str(value)
        if text in ("", ".", ".."):
            raise UnsafePathSegment(f"`{name}` cannot be a path segment")
        quoted[name] = quote(text, safe="")
    return template.format(**quoted)
