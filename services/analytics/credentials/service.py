"""LRS clients: HTTP Basic key and secret per client, the way LMS plugins authenticate.

Secrets are stored as scrypt hashes and checked off the event loop, with one answer for every
failure and throttling per key and address (guard.py). Verifying scrypt on every statement
would cost more than storing it, so a successful check is remembered in memory for a few
minutes, keyed by a SHA-256 of the presented secret (never the secret).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal, Role
from kit.errors import NotFound
from kit.text import safe_for_output, text_fault
from services.analytics.credentials import repository
from services.analytics.credentials.guard import (
    FailureThrottle,
    SecretChecker,
    hash_secret,
    invalid_credentials,
)
from services.analytics.credentials.models import ClientCreate, ClientPublic, LrsClient

REMEMBER_SECONDS = 300
_verified: dict[str, tuple[str, float]] = {}


@dataclass
class Guard:
    """One app's failure throttle and scrypt checker (kept on `app.state.lrs_guard`)."""

    throttle: FailureThrottle
    checker: SecretChecker


def _decode(header: str) -> tuple[str, str] | None:
    try:
        key, colon, secret = base64.b64decode(header, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (key, secret) if colon else None


async def verify_basic(
    session: AsyncSession, guard: Guard, address: str, header: str
) -> tuple[Principal, str]:
    """The client's principal (`lrs-client:<key>`, role lrs-client) and granted scope, for the
    base64 `key:secret` of an HTTP Basic header sent from `address`. Raises Unauthorized (401
    `lrs_credentials_invalid`) for every failure — unreadable, unknown key, revoked, wrong
    secret — and TooManyFailures (429 `lrs_credentials_throttled`) once throttled (guard.py)."""
    address_bucket = f"address:{address}"
    decoded = _decode(header)
    key, secret = decoded or ("", "")
    key_bucket = "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
    client = None
    if decoded is not None and len(key) <= 64 and text_fault(key) is None:
        client = await repository.by_key(session, key)
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
        stamp = guard.throttle.begin(address_bucket, key_bucket)
        stored = usable.secret_hash if usable is not None else None
        if decoded is None or not await guard.checker.matches(secret, stored):
            raise invalid_credentials()
        _verified[key] = (presented, time.monotonic() + REMEMBER_SECONDS)
        guard.throttle.succeeded(stamp, address_bucket, key_bucket)
    assert usable is not None
    principal = Principal(
        f"lrs-client:{key}", usable.name, frozenset(), frozenset({Role.lrs_client.value})
    )
    return principal, usable.scope


async def create_client(session: AsyncSession, body: ClientCreate, created_by: str) -> ClientPublic:
    """A new client with a random key (`lrs_` and 16 hex digits) and secret; the answer is the
    only place the secret ever appears (only its scrypt hash is stored)."""
    key = "lrs_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    client = LrsClient(
        key=key,
        secret_hash=hash_secret(secret),
        name=body.name,
        scope=body.scope,
        created_by=created_by,
    )
    await repository.add(session, client)
    return ClientPublic(key=key, name=body.name, active=True, scope=body.scope, secret=secret)


async def list_clients(session: AsyncSession) -> list[ClientPublic]:
    """Every client, oldest first, without secrets (names made encodable)."""
    return [
        ClientPublic(key=r.key, name=safe_for_output(r.name), active=r.active, scope=r.scope)
        for r in await repository.all_clients(session)
    ]


async def revoke_client(session: AsyncSession, key: str) -> None:
    """Revoke a client at once (its remembered secret is forgotten too). Raises NotFound (404
    `lrs_client_not_found`) for a key no client has."""
    client = await repository.by_key(session, key)
    if client is None:
        raise NotFound("no such LRS client", code="lrs_client_not_found")
    client.active = False
    _verified.pop(key, None)
