"""`/xapi/*` on the gateway: LMS plugins and HR systems reach the learning record store through
the one public entry (the Ingress routes only to the gateway), unchanged — their own HTTP Basic
or bearer credentials, checked by the analytics service itself.

Only the seven xAPI resources are passed on, named by the raw request path exactly (no `..`,
no percent-encoding, no trailing slash): anything else is 404 `xapi_resource_not_found` and no
call is made; the upstream URL is built from the allowed name, never from the caller's text.
Request and response bodies stream through: the gateway never holds a whole body, and the
inbound rules (gateway/inbound.py) have already required credentials and bound its size.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from kit.errors import AppError, NotFound, ServiceUnavailable

xapi = APIRouter(tags=["xapi"])
PREFIX = b"/xapi/"
RESOURCES = frozenset(
    {
        "statements",
        "about",
        "activities",
        "activities/state",
        "activities/profile",
        "agents",
        "agents/profile",
    }
)
FORWARDED = (
    "authorization",
    "content-type",
    "content-length",
    "x-experience-api-version",
    "if-match",
    "if-none-match",
)
RETURNED = (
    "content-type",
    "x-experience-api-version",
    "x-experience-api-consistent-through",
    "www-authenticate",
    "retry-after",
    "etag",
    "last-modified",
)


def resource_of(request: Request) -> str:
    """The xAPI resource the raw path names (one of `RESOURCES`); `NotFound` for anything else,
    including dot segments and percent-encoded characters, which a resource name never holds."""
    raw = request.scope.get("raw_path") or request.scope["path"].encode()
    wanted = raw[len(PREFIX) :].decode("ascii", "replace") if raw.startswith(PREFIX) else ""
    if wanted not in RESOURCES:
        raise NotFound("no such xAPI resource", code="xapi_resource_not_found")
    return wanted


def _has_body(request: Request) -> bool:
    declared = request.headers.get("content-length", "").strip()
    return "transfer-encoding" in request.headers or declared not in ("", "0")


async def _relay(reply: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in reply.aiter_bytes():
            yield chunk
    finally:
        await reply.aclose()


@xapi.api_route(
    "/xapi/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE"],
    include_in_schema=False,
)
async def pass_on(request: Request) -> Response:
    """The analytics service's answer to the same xAPI request (status, kept headers, body),
    streamed both ways. Raises NotFound 404 `xapi_resource_not_found` for another path,
    AppError 400 `invalid_header` for a forwarded header with bytes outside ASCII (no call
    made), ServiceUnavailable 503 `analytics_unavailable` when analytics cannot be reached."""
    resource = resource_of(request)
    upstreams = request.app.state.upstreams
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
    for name, value in headers.items():
        if not value.isascii():  # httpx sends ASCII only; a raw byte above 0x7F would fail it
            raise AppError(
                f"the {name} header holds bytes outside ASCII",
                code="invalid_header",
                details=[{"location": ["header", name], "parameter": name}],
            )
    if request.client:
        # The LRS throttles failed credentials per client address: it must see the caller's,
        # not the gateway's, or one attacker would lock every LMS out (analytics trusts
        # X-Forwarded-For from the addresses in FORWARDED_ALLOW_IPS, uvicorn's own rule).
        headers["x-forwarded-for"] = request.client.host
    outgoing = upstreams.http.build_request(
        request.method,
        f"{upstreams.urls['analytics']}/xapi/{resource}",
        params=list(request.query_params.multi_items()),
        content=request.stream() if _has_body(request) else None,
        headers=headers,
        timeout=upstreams.timeout_seconds * 6,
    )
    try:
        reply = await upstreams.http.send(outgoing, stream=True)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "the learning record store is unavailable", code="analytics_unavailable"
        ) from exc
    kept = {k: v for k, v in reply.headers.items() if k.lower() in RETURNED}
    return StreamingResponse(_relay(reply), status_code=reply.status_code, headers=kept)
