"""Routes of the LRS clients (admins), and the dependency every xAPI route names its caller
with: HTTP Basic as an LRS client, or a bearer token with the lrs-client or admin role. Parse,
call service.py, present."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from kit.auth import Principal, Role, authenticate, credentials_missing, require_roles
from kit.db import SessionDep
from kit.errors import Forbidden
from services.analytics.credentials import service
from services.analytics.credentials.guard import LRS_REALM, FailureThrottle, SecretChecker
from services.analytics.credentials.models import KEY_PATTERN, ClientCreate, ClientPublic
from services.analytics.statements.scope import Scope


@dataclass(frozen=True)
class LrsCaller:
    """Who calls the LRS and what it may see (services/analytics/statements/scope.py)."""

    principal: Principal
    scope: Scope


def _guard(request: Request) -> service.Guard:
    state = request.app.state
    guard: service.Guard | None = getattr(state, "lrs_guard", None)
    if guard is None:  # one per app, made from its settings on first use
        settings = state.settings
        guard = service.Guard(
            FailureThrottle(settings.lrs_auth_max_failures, settings.lrs_auth_window_seconds),
            SecretChecker(settings.lrs_auth_concurrency),
        )
        state.lrs_guard = guard
    return guard


async def lrs_caller(request: Request, session: SessionDep) -> LrsCaller:
    """The caller of an xAPI route with the scope of what it may read and void. Raises 401
    `credentials_missing` (with a Basic challenge) without an Authorization header, 401
    `lrs_credentials_invalid` / 429 `lrs_credentials_throttled` for HTTP Basic
    (service.verify_basic), 401 for a bad token and 403 `role_required` for a token without
    the lrs-client or admin role."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        address = request.client.host if request.client else "-"
        principal, granted = await service.verify_basic(
            session, _guard(request), address, value.strip()
        )
        return LrsCaller(principal, Scope.of(principal, granted))
    if not scheme:
        raise credentials_missing(LRS_REALM)
    principal = await authenticate(request)
    if not (principal.is_admin or principal.has_role(Role.lrs_client)):
        raise Forbidden("this needs the lrs-client role", code="role_required")
    return LrsCaller(principal, Scope.of(principal))


LrsCallerDep = Annotated[LrsCaller, Depends(lrs_caller)]

admin = APIRouter(
    prefix="/v1/lrs-clients", tags=["lrs clients"], dependencies=[require_roles(Role.admin)]
)


@admin.post(
    "", status_code=201, response_model=ClientPublic, summary="Create an LRS client (admins)"
)
async def create_client(body: ClientCreate, session: SessionDep, request: Request) -> ClientPublic:
    """201 with the new client's key and its secret, shown this once."""
    principal = await authenticate(request)
    return await service.create_client(session, body, principal.subject)


@admin.get("", response_model=list[ClientPublic], summary="LRS clients")
async def list_clients(session: SessionDep) -> list[ClientPublic]:
    """Every client, oldest first, without secrets."""
    return await service.list_clients(session)


@admin.delete("/{key}", status_code=204, summary="Revoke an LRS client")
async def revoke_client(
    key: Annotated[str, Path(pattern=KEY_PATTERN, description="lrs_ and 16 hex digits")],
    session: SessionDep,
) -> Response:
    """204 once revoked. Raises 404 `lrs_client_not_found` for an unknown key."""
    await service.revoke_client(session, key)
    return Response(status_code=204)
