"""LRS clients: HTTP Basic key and secret per client, the way LMS plugins authenticate.

Secrets are stored as scrypt hashes and checked off the event loop, with one answer for every
failure and throttling per key and address (services/analytics/credentials.py). Verifying
scrypt on every statement would cost more than storing it, so a successful check is remembered
in memory for a few minutes, keyed by a SHA-256 of the presented secret (never the secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import col, select

from kit.auth import Principal, Role, authenticate, credentials_missing, require_roles
from kit.db import SessionDep
from kit.errors import Forbidden, NotFound
from kit.text import VISIBLE, safe_for_output, text_fault
from services.analytics.credentials import (
    LRS_REALM,
    FailureThrottle,
    SecretChecker,
    hash_secret,
    invalid_credentials,
)
from services.analytics.models import LrsClient
from services.analytics.statements.scope import OWN, Scope

REMEMBER_SECONDS = 300
KEY_PATTERN = r"^lrs_[0-9a-f]{16}$"
_verified: dict[str, tuple[str, float]] = {}


@dataclass(frozen=True)
class LrsCaller:
    """Who calls the LRS and what it may see (services/analytics/statements/scope.py)."""

    principal: Principal
    scope: Scope


@dataclass
class _Guard:
    throttle: FailureThrottle
    checker: SecretChecker


def _guard(request: Request) -> _Guard:
    state = request.app.state
    guard: _Guard | None = getattr(state, "lrs_guard", None)
    if guard is None:  # one per app, made from its settings on first use
        settings = state.settings
        guard = _Guard(
            FailureThrottle(settings.lrs_auth_max_failures, settings.lrs_auth_window_seconds),
            SecretChecker(settings.lrs_auth_concurrency),
        )
        state.lrs_guard = guard
    return guard


def _decode(header: str) -> tuple[str, str] | None:
    try:
        key, colon, secret = base64.b64decode(header, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if colon else None


async def _basic(request: Request, session: SessionDep, header: str) -> tuple[Principal, str]:
    """The client's principal and granted scope; 401 `lrs_credentials_invalid` for every
    failure (unreadable, unknown key, revoked, wrong secret), 429 once throttled."""
    guard = _guard(request)
    address = f"address:{request.client.host if request.client else '-'}"
    decoded = _decode(header)
    key, secret = decoded or ("", "")
    key_bucket = "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
    client = None
    if decoded is not None and len(key) <= 64 and text_fault(key) is None:
        client = (await session.exec(select(LrsClient).where(LrsClient.key == key))).first()
    usable = client if client is not None and client.active else None
    presented = hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()
    remembered = _verified.get(key)
    fresh = (
        usable is not None
        and remembered is not None
        and hmac.compare_digest(remembered[0], presented)
        and remembered[1] > time.monotonic()
    )
    # A key and secret proven right in the last minutes pass without a throttle: no guess can
    # match a remembered secret, and it keeps an attacker who fails from the same address (a
    # NAT, a proxy) from locking working LMSs out. Only checks that need scrypt are throttled.
    if not fresh:
        stamp = guard.throttle.begin(address, key_bucket)
        stored = usable.secret_hash if usable is not None else None
        if decoded is None or not await guard.checker.matches(secret, stored):
            raise invalid_credentials()
        _verified[key] = (presented, time.monotonic() + REMEMBER_SECONDS)
        guard.throttle.succeeded(stamp, address, key_bucket)
    assert usable is not None
    principal = Principal(
        f"lrs-client:{key}", usable.name, frozenset(), frozenset({Role.lrs_client.value})
    )
    return principal, usable.scope


async def lrs_caller(request: Request, session: SessionDep) -> LrsCaller:
    """HTTP Basic (an LRS client) or a bearer token with the lrs-client or admin role, with the
    scope of what the caller may read and void."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        principal, granted = await _basic(request, session, value.strip())
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


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), VISIBLE]
    scope: Literal["own", "read_all"] = Field(
        default="own",
        description="own: the client reads only its own statements; read_all: every statement "
        "(voiding stays limited to its own).",
    )


class ClientPublic(BaseModel):
    key: str
    name: str
    active: bool
    scope: str = OWN
    secret: str | None = Field(default=None, description="Shown once, when the client is made.")


@admin.post(
    "", status_code=201, response_model=ClientPublic, summary="Create an LRS client (admins)"
)
async def create_client(body: ClientCreate, session: SessionDep, request: Request) -> ClientPublic:
    principal = await authenticate(request)
    key = "lrs_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        LrsClient(
            key=key,
            secret_hash=hash_secret(secret),
            name=body.name,
            scope=body.scope,
            created_by=principal.subject,
        )
    )
    await session.flush()
    return ClientPublic(key=key, name=body.name, active=True, scope=body.scope, secret=secret)


@admin.get("", response_model=list[ClientPublic], summary="LRS clients")
async def list_clients(session: SessionDep) -> list[ClientPublic]:
    rows = (await session.exec(select(LrsClient).order_by(col(LrsClient.created_at)))).all()
    return [
        ClientPublic(key=r.key, name=safe_for_output(r.name), active=r.active, scope=r.scope)
        for r in rows
    ]


@admin.delete("/{key}", status_code=204, summary="Revoke an LRS client")
async def revoke_client(
    key: Annotated[str, Path(pattern=KEY_PATTERN, description="lrs_ and 16 hex digits")],
    session: SessionDep,
) -> Response:
    client = (await session.exec(select(LrsClient).where(LrsClient.key == key))).first()
    if client is None:
        raise NotFound("no such LRS client", code="lrs_client_not_found")
    client.active = False
    _verified.pop(key, None)
    return Response(status_code=204)
