"""`/xapi/*` on the gateway: LMS plugins and HR systems reach the learning record store through
the one public entry (the Ingress routes only to the gateway), unchanged — their own HTTP Basic
or bearer credentials, checked by the analytics service itself."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response

from kit.errors import ServiceUnavailable

xapi = APIRouter(tags=["xapi"])
FORWARDED = (
    "authorization",
    "content-type",
    "x-experience-api-version",
    "if-match",
    "if-none-match",
)
RETURNED = (
    "content-type",
    "x-experience-api-version",
    "x-experience-api-consistent-through",
    "www-authenticate",
    "etag",
    "last-modified",
)


@xapi.api_route(
    "/xapi/{path:path}",
    methods=["GET", "POST", "PUT", "DELETE"],
    include_in_schema=False,
)
async def pass_on(path: str, request: Request) -> Response:
    upstreams = request.app.state.upstreams
    headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
    try:
        reply = await upstreams.http.request(
            request.method,
            f"{upstreams.urls['analytics']}/xapi/{path}",
            params=list(request.query_params.multi_items()),
            content=await request.body(),
            headers=headers,
            timeout=upstreams.timeout_seconds * 6,
        )
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(
            "the learning record store is unavailable", code="analytics_unavailable"
        ) from exc
    kept = {k: v for k, v in reply.headers.items() if k.lower() in RETURNED}
    return Response(reply.content, status_code=reply.status_code, headers=kept)
