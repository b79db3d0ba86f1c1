"""Calls from resolvers to a service, as the caller: their own token goes along (every field
using these requires IsAuthenticated), so each service checks rights itself."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from gateway.clients import UpstreamReply, UpstreamUnavailable, call
from gateway.schema.context import Context
from gateway.schema.errors import raise_unavailable
from gateway.schema.ids import InvalidId, id_path


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
    """`slow`: a reflection step that may wait for a language model gets the longer timeout.
    `ids`: `path` is a template whose `{name}` parts are these caller ids, parsed as UUIDs and
    quoted (gateway.schema.ids.id_path); never put caller text into `path` itself.
    Raises InvalidId before any call when an id is malformed, and UpstreamUnavailable;
    mutations turn those into ValidationError and ServiceUnavailableError results."""
    if ids:
        path = id_path(path, **ids)
    principal = info.context.principal
    assert principal is not None  # IsAuthenticated
    upstreams = info.context.upstreams
    timeout = upstreams.guide_timeout_seconds if slow else None
    return await call(
        upstreams, service, method, path, token=principal.token, timeout_seconds=timeout, **kwargs
    )


async def ask_for_query(
    info: Info[Context, None], service: str, method: str, path: str, **kwargs: Any
) -> UpstreamReply:
    """For queries, which have no result union: an unavailable service becomes a GraphQL error
    naming it, and the other fields of the operation still resolve; a malformed id (`ids`, as
    in `ask`) a `BAD_USER_INPUT` error, with no call made."""
    try:
        return await ask(info, service, method, path, **kwargs)
    except InvalidId as exc:
        exc.raise_for_query()
    except UpstreamUnavailable as exc:
        raise_unavailable(exc)
