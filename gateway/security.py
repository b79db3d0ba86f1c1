"""Who is asking: the bearer token is optional at the HTTP level and required per field.

A request without a token may read only public fields (`health`); a request with a token that
does not verify is refused outright with 401, before any resolver runs.
"""

from __future__ import annotations

from typing import Any

import strawberry
from fastapi.requests import HTTPConnection
from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from kit.auth import Principal, authenticate, bearer_token, principal_from_claims
from kit.errors import Unauthorized


async def optional_principal(connection: HTTPConnection) -> Principal | None:
    """The caller of an HTTP request or WebSocket handshake (both are HTTP connections), or None
    when it sent no Authorization header. Raises Unauthorized (401) when a token was sent and
    does not verify (kit.auth.authenticate)."""
    if "authorization" not in connection.headers:
        return None
    return await authenticate(connection)  # type: ignore[arg-type]


async def subscriber(info: Info) -> Principal:
    """Who subscribes: the handshake's Authorization header, or — since browsers cannot set
    headers on a WebSocket — the `Authorization` of the graphql-transport-ws
    `connection_init` payload. Checked like any token, and kept as the context's principal.
    Raises GraphQLError `UNAUTHENTICATED` when neither carries a token, or it does not verify."""
    context = info.context
    if context.principal is not None:
        principal: Principal = context.principal
        return principal
    params = getattr(context, "connection_params", None) or {}
    header = params.get("Authorization") or params.get("authorization")
    if not header:
        raise GraphQLError(
            "authentication required: send a bearer token", extensions={"code": "UNAUTHENTICATED"}
        )
    state = context.request.app.state
    try:
        claims = await state.verifier.verify(bearer_token(str(header)))
        principal = principal_from_claims(claims, state.platform, bearer_token(str(header)))
    except Unauthorized as exc:
        raise GraphQLError(exc.message, extensions={"code": "UNAUTHENTICATED"}) from exc
    context.principal = principal
    return principal


class IsAuthenticated(BasePermission):
    """Strawberry permission: the field resolves only for a caller with a verified token; for
    anyone else it is an error with code `UNAUTHENTICATED` (and null data)."""

    message = "authentication required: send a bearer token"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        """True when the request carried a verified token."""
        return info.context.principal is not None


def signed_in_field(description: str) -> Any:
    """`strawberry.field` (a decorator for a resolver) that only a signed-in caller may resolve
    (IsAuthenticated): every field but `health` and `reflectionModels` needs one."""
    return strawberry.field(description=description, permission_classes=[IsAuthenticated])


def signed_in_mutation(description: str) -> Any:
    """`strawberry.mutation` that only a signed-in caller may run (IsAuthenticated)."""
    return strawberry.mutation(description=description, permission_classes=[IsAuthenticated])
