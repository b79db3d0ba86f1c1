"""The one way a resolver calls a service, as the caller: their own token goes along (every field
using these requires IsAuthenticated, or checks the subscriber first), so each service checks
rights itself.

- `ask`: the reply as it came; raises InvalidId and UpstreamUnavailable.
- `read` / `read_or_none`: for queries, which have no result union: a refusal, a malformed id
  or an unavailable service becomes a GraphQL error with a code.
- `change`: for mutations: the presented result, or the member of the union result that says
  why not (gateway/schema/errors.py maps the service's status).
- `stream`: a service's server-sent events, for subscriptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from strawberry.types import Info

from gateway.clients import UpstreamReply, UpstreamUnavailable, call
from gateway.schema.context import Context
from gateway.schema.errors import from_reply, raise_for_query, raise_unavailable
from gateway.schema.errors import unavailable as unavailable_result
from gateway.schema.ids import InvalidId, id_path

Presented = TypeVar("Presented")
Present = Callable[[Any], Presented]  # REST body → what the GraphQL field shows


async def ask(
    info: Info[Context, None],
    service: str,
    method: str,
    path: str,
    *,
    slow: bool = False,
    ids: dict[str, object] | None = None,
    **kwargs: Any,
) -> UpstreamReply:
    """The service's reply (any status below 500) to one call made with the caller's token.

    `slow`: a reflection step that may wait for a language model gets the longer timeout.
    `ids`: `path` is a template whose `{name}` parts are these caller ids, parsed as UUIDs and
    quoted (gateway.schema.ids.id_path); never put caller text into `path` itself. `kwargs` go
    to gateway.clients.call (`json`, `params`, `headers`).
    Raises InvalidId before any call when an id is malformed, and UpstreamUnavailable when the
    service cannot be reached, fails (5xx) or its breaker is open."""
    if ids:
        path = id_path(path, **ids)
    principal = info.context.principal
    assert principal is not None  # IsAuthenticated
    upstreams = info.context.upstreams
    timeout = upstreams.guide_timeout_seconds if slow else None
    return await call(
        upstreams, service, method, path, token=principal.token, timeout_seconds=timeout, **kwargs
    )


async def _ask_for_query(
    info: Info[Context, None], service: str, method: str, path: str, **kwargs: Any
) -> UpstreamReply:
    try:
        return await ask(info, service, method, path, **kwargs)
    except InvalidId as exc:
        exc.raise_for_query()
    except UpstreamUnavailable as exc:
        raise_unavailable(exc)


def _presented(reply: UpstreamReply, present: Present[Presented]) -> Presented:
    raise_for_query(reply)
    return present(reply.body)


async def read(
    info: Info[Context, None],
    service: str,
    path: str,
    present: Present[Presented],
    *,
    method: str = "GET",
    **kwargs: Any,
) -> Presented:
    """`present(body)` of the service's 2xx reply, for a query field.

    Raises GraphQLError, so that the other fields of the operation still resolve: code
    `BAD_USER_INPUT` for a malformed id in `ids` (no call made), `SERVICE_UNAVAILABLE` naming
    the service, or the service's own error code in capitals (e.g. `ROLE_REQUIRED`)."""
    return _presented(await _ask_for_query(info, service, method, path, **kwargs), present)


async def read_or_none(
    info: Info[Context, None], service: str, path: str, present: Present[Presented], **kwargs: Any
) -> Presented | None:
    """As `read` (GET), but None when the service answers 404: the object does not exist, or
    the caller may not see it, which a nullable field does not tell apart."""
    reply = await _ask_for_query(info, service, "GET", path, **kwargs)
    return None if reply.status == 404 else _presented(reply, present)


async def change(
    info: Info[Context, None],
    service: str,
    method: str,
    path: str,
    present: Present[Any],
    **kwargs: Any,
) -> Any:
    """`present(body)` of the service's 2xx reply, for a mutation; otherwise the member of its
    union result that says why: ValidationError `invalid_id` for a malformed id in `ids` (no
    call made), ServiceUnavailableError, or the service's refusal mapped by its status
    (gateway.schema.errors.from_reply: 404 NotFoundError, 403 ForbiddenError, 409
    ConflictError, 412/428 StaleVersionError, other 4xx ValidationError). Typed Any: each
    field's union names the members it shows. Raises GraphQLError `UNAUTHENTICATED` only when
    the service refuses the token (401)."""
    try:
        reply = await ask(info, service, method, path, **kwargs)
    except InvalidId as exc:
        return exc.as_result()
    except UpstreamUnavailable as exc:
        return unavailable_result(exc)
    return present(reply.body) if reply.ok else from_reply(reply)


@asynccontextmanager
async def stream(
    info: Info[Context, None], service: str, path: str, *, json: Any
) -> AsyncIterator[httpx.Response]:
    """POST `json` as the caller and hold the streaming response (`Accept: text/event-stream`,
    the longer guide time limit); any status below 500 is the caller's to read.
    Raises UpstreamUnavailable when the service cannot be reached, answers 5xx, or the
    connection fails while the response is read."""
    principal = info.context.principal
    assert principal is not None  # the subscriber was checked first
    upstreams = info.context.upstreams
    headers = {"Authorization": f"Bearer {principal.token}", "Accept": "text/event-stream"}
    try:
        async with upstreams.http.stream(
            "POST",
            f"{upstreams.urls[service]}{path}",
            json=json,
            headers=headers,
            timeout=upstreams.guide_timeout_seconds,
        ) as response:
            if response.status_code >= 500:
                raise UpstreamUnavailable(service)
            yield response
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(service) from exc
