"""LRS clients: HTTP Basic key and secret per client, the way LMS plugins authenticate.

Secrets are stored as scrypt hashes. Verifying scrypt on every statement would cost more than
storing it, so a successful check is remembered in memory for a few minutes, keyed by a SHA-256
of the presented secret (never the secret itself).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from kit.auth import Principal, Role, authenticate, require_roles
from kit.db import SessionDep
from kit.errors import Forbidden, NotFound, Unauthorized
from services.analytics.models import LrsClient

REMEMBER_SECONDS = 300
_verified: dict[str, tuple[str, float]] = {}


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        expected = hash_secret(secret, bytes.fromhex(salt)).split("$")[2]
    except ValueError:
        return False
    return hmac.compare_digest(expected, digest)


def _basic_challenge(message: str) -> Unauthorized:
    return Unauthorized(
        message,
        code="lrs_credentials_invalid",
        headers={"WWW-Authenticate": 'Basic realm="werkvloer-lrs"'},
    )


async def _basic(request: Request, session: SessionDep, header: str) -> Principal:
    try:
        key, _, secret = base64.b64decode(header, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _basic_challenge("the Basic credentials cannot be read") from exc
    client = (await session.exec(select(LrsClient).where(LrsClient.key == key))).first()
    if client is None or not client.active:
        raise _basic_challenge("unknown or revoked LRS client")
    presented = hashlib.sha256(secret.encode()).hexdigest()
    remembered = _verified.get(key)
    fresh = (
        remembered is not None and remembered[0] == presented and remembered[1] > time.monotonic()
    )
    if not fresh:
        if not secret_matches(secret, client.secret_hash):
            raise _basic_challenge("wrong LRS client secret")
        _verified[key] = (presented, time.monotonic() + REMEMBER_SECONDS)
    return Principal(
        f"lrs-client:{key}", client.name, frozenset(), frozenset({Role.lrs_client.value})
    )


async def lrs_principal(request: Request, session: SessionDep) -> Principal:
    """HTTP Basic (an LRS client) or a bearer token with the lrs-client or admin role."""
    scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        return await _basic(request, session, value.strip())
    principal = await authenticate(request)
    if not (principal.is_admin or principal.has_role(Role.lrs_client)):
        raise Forbidden("this needs the lrs-client role", code="role_required")
    return principal


LrsPrincipal = Annotated[Principal, Depends(lrs_principal)]

admin = APIRouter(
    prefix="/v1/lrs-clients", tags=["lrs clients"], dependencies=[require_roles(Role.admin)]
)


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)


class ClientPublic(BaseModel):
    key: str
    name: str
    active: bool
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
            key=key, secret_hash=hash_secret(secret), name=body.name, created_by=principal.subject
        )
    )
    await session.flush()
    return ClientPublic(key=key, name=body.name, active=True, secret=secret)


@admin.get("", response_model=list[ClientPublic], summary="LRS clients")
async def list_clients(session: SessionDep) -> list[ClientPublic]:
    rows = (await session.exec(select(LrsClient).order_by(col(LrsClient.created_at)))).all()
    return [ClientPublic(key=r.key, name=r.name, active=r.active) for r in rows]


@admin.delete("/{key}", status_code=204, summary="Revoke an LRS client")
async def revoke_client(key: str, session: SessionDep) -> Response:
    client = (await session.exec(select(LrsClient).where(LrsClient.key == key))).first()
    if client is None:
        raise NotFound("no such LRS client", code="lrs_client_not_found")
    client.active = False
    _verified.pop(key, None)
    return Response(status_code=204)
