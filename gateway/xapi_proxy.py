"""`/xapi/*` on the gateway: LMS plugins and HR systems reach the learning record store through
the one public entry (the Ingress routes only to the gateway), unchanged — their own HTTP Basic
or bearer credentials, checked by the analytics service itself.

Only the seven xAPI resources are passed on, named by the raw request path exactly (no `..`,
no percent-encoding, no trailing slash): anything else is 404 `xapi_resource_not_found` and no
call is made; the upstream URL is built from the allowed name, never from the caller's text.
Request and response bodies stream through analytics' ServiceClient (kit ServiceClient.stream:
its breaker, never retried, one of the caller's slots until the answer has been sent on): the
gateway never holds a whole body, and the inbound rules (gateway/inbound.py) have already
required credentials and bound its size. Analytics' answers below 500 pass on as they are; a
5xx, an unreachable service or an open breaker is 503 `analytics_unavailable`.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import anyio
import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.callers import client_address
from kit import service_client
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


class _Relayed(StreamingResponse):
    """Analytics' answer streamed on; then the call is closed (its response, the caller's slot),
    also when the client goes away before or while it is sent."""

    def __init__(self, reply: httpx.Response, call: AsyncExitStack) -> None:
        kept = {k: v for k, v in reply.headers.items() if k.lower() in RETURNED}
        super().__init__(reply.aiter_bytes(), status_code=reply.status_code, headers=kept)
        self._call = call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: a cancelled request must still give its slot back.
            with anyio.CancelScope(shield=True):
                await self._call.aclose()


@xapi.api_route(
    "/xapi/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE"],
    include_in_schema=False,
)
async def pass_on(request: Request) -> Response:
    """The analytics service's answer to the same xAPI request (status, kept headers, body),
    streamed both ways. Raises NotFound 404 `xapi_resource_not_found` for another path,
    AppError 400 `invalid_header` for a forwarded header with bytes outside ASCII (no call
    made), ServiceUnavailable 503 `analytics_unavailable` when analytics cannot be reached,
    answers 5xx or its breaker is open."""
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
    call = AsyncExitStack()  # closed by _Relayed once the answer has been sent on
    try:
        reply = await call.enter_async_context(
            upstreams.clients["analytics"].stream(
                request.method,
                f"/xapi/{resource}",
                params=list(request.query_params.multi_items()),
                content=request.stream() if _has_body(request) else None,
                headers=headers,
                timeout_seconds=upstreams.timeout_seconds * 6,
                # Credentials here are checked by analytics, not the gateway: the caller is
                # the client's address (gateway/callers.py).
                caller=client_address(request.scope),
            )
        )
    except service_client.ServiceUnavailable as exc:
        raise ServiceUnavailable(
            "the learning record store is unavailable", code="analytics_unavailable"
        ) from exc
    return _Relayed(reply, call)
