"""Who is asking: the bearer token is optional at the HTTP level and required per field.

A request without a token may read only public fields (`health`); a request with a token that
does not verify is refused outright with 401, before any resolver runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from strawberry.permission import BasePermission
from strawberry.types import Info

from kit.auth import Principal, authenticate


async def optional_principal(request: Request) -> Principal | None:
    if "authorization" not in request.headers:
        return None
    return await authenticate(request)


class IsAuthenticated(BasePermission):
    message = "authentication required: send a bearer token"
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None
