"""Calls from resolvers to a service, as the caller: their own token goes along (every field
using these requires IsAuthenticated), so each service checks rights itself."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from gateway.clients import UpstreamReply, UpstreamUnavailable, call
from gateway.schema.context import Context
from gateway.schema.errors import raise_unavailable


async def ask(
    info: Info[Context, None],
    service: str,
    method: str,
    path: str,
    *,
    slow: bool = False,
    **kwargs: Any,
) -> UpstreamReply:
    """`slow`: a reflection step that may wait for a language model gets the longer timeout.
    Raises UpstreamUnavailable; mutations turn that into a ServiceUnavailableError result."""
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
    naming it, and the other fields of the operation still resolve."""
    try:
        return await ask(info, service, method, path, **kwargs)
    except UpstreamUnavailable as exc:
        raise_unavailable(exc)
