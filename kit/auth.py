"""Bearer-token authentication for every process.

Production trusts an OIDC provider: tokens are checked against its issuer, audience and JWKS
(keys cached, fetched again when a token names an unknown `kid`). Development signs HS256 tokens
with a secret made on first start and kept under `var/`, so no secret ever lives in the code.
Every failure is a 401 with `WWW-Authenticate` and its own error code; a missing role is a 403.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import httpx
import jwt
from fastapi import Depends, Request

from kit.errors import Forbidden, Unauthorized
from kit.settings import PlatformSettings
from kit.text import text_fault

DEV_ISSUER = "werkvloer-dev"
DEV_AUDIENCE = "werkvloer"
DEV_ALGORITHM = "HS256"
DEV_SECRET_FILE = "dev-jwt-secret"  # noqa: S105 - a file name, not a secret


class Role(StrEnum):
    """The platform's roles, as tokens carry them (docs/authentication.md)."""

    worker = "worker"
    coach = "coach"
    analyst = "analyst"
    admin = "admin"
    lrs_client = "lrs-client"
    # Another Werkvloer process calling an internal endpoint (kit/service_auth.py); never a person.
    service = "service"


@dataclass(frozen=True)
class Principal:
    """Who is calling: read from the token's claims, never from request parameters."""

    subject: str
    name: str
    teams: frozenset[str]
    roles: frozenset[str]
    token: str = ""

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the caller holds at least one of `roles`."""
        return any(str(role) in self.roles for role in roles)

    @property
    def is_admin(self) -> bool:
        """Whether the caller holds the `admin` role."""
        return Role.admin in self.roles


def _challenge(code: str, description: str) -> dict[str, str]:
    safe = description.replace('"', "'")
    return {
        "WWW-Authenticate": (
            f'Bearer realm="werkvloer", error="invalid_token", error_description="{safe}"'
        )
    }


def credentials_missing(basic_realm: str) -> Unauthorized:
    """401 `credentials_missing` for a route that takes HTTP Basic or a bearer token, with a
    challenge for each (RFC 9110 section 11.6.1), so a Basic client is not told to send a
    bearer token."""
    return Unauthorized(
        "send credentials: HTTP Basic (key and secret) or a bearer token",
        code="credentials_missing",
        headers={"WWW-Authenticate": f'Basic realm="{basic_realm}", Bearer realm="werkvloer"'},
    )


def _reject(code: str, description: str) -> Unauthorized:
    return Unauthorized(description, code=code, headers=_challenge(code, description))


class TokenVerifier(Protocol):
    """Checks a bearer token: `verify(token)` returns its claims or raises Unauthorized (401)."""

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims. Raises Unauthorized (401, `token_*` code) when it does not verify."""
        ...


def _decode(
    token: str, key: Any, algorithms: list[str], issuer: str, audience: str, leeway: int
) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _reject("token_expired", "the token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise _reject("token_not_yet_valid", "the token is not valid yet") from exc
    except jwt.InvalidIssuerError as exc:
        raise _reject("token_issuer_invalid", "the token has the wrong issuer") from exc
    except jwt.InvalidAudienceError as exc:
        raise _reject("token_audience_invalid", "the token has the wrong audience") from exc
    except jwt.InvalidSignatureError as exc:
        raise _reject("token_signature_invalid", "the token signature does not verify") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise _reject("token_claim_missing", f"the token lacks the {exc.claim} claim") from exc
    except jwt.InvalidAlgorithmError as exc:
        raise _reject("token_algorithm_not_allowed", "the token algorithm is not allowed") from exc
    except jwt.PyJWTError as exc:
        raise _reject("token_malformed", "the token cannot be read") from exc
    return claims


def _header(token: str, algorithms: list[str]) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _reject("token_malformed", "the token cannot be read") from exc
    # Checked before any key lookup: `alg: none` and algorithm confusion never reach decode.
    if header.get("alg") not in algorithms:
        raise _reject("token_algorithm_not_allowed", "the token algorithm is not allowed")
    return header


class SharedSecretVerifier:
    """Development tokens: HS256 with the secret under `var/`."""

    def __init__(self, secret: str, leeway: int = 30) -> None:
        self._secret = secret
        self._leeway = leeway

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a development token (HS256 under the development secret, issuer and
        audience checked, `leeway` seconds of clock skew). Raises Unauthorized (401, `token_*`
        code) otherwise."""
        _header(token, [DEV_ALGORITHM])
        return _decode(token, self._secret, [DEV_ALGORITHM], DEV_ISSUER, DEV_AUDIENCE, self._leeway)


class JwksVerifier:
    """OIDC tokens checked against the provider's published keys."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        jwks_url: str,
        issuer: str,
        audience: str,
        algorithms: list[str],
        leeway: int = 30,
        cache_seconds: int = 3600,
        min_refresh_seconds: float = 10.0,
    ) -> None:
        self._http, self._url, self._issuer, self._audience = http, jwks_url, issuer, audience
        self._algorithms, self._leeway, self._cache_seconds = algorithms, leeway, cache_seconds
        # A flood of tokens with made-up kids must not become a flood of JWKS fetches.
        self._min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        try:
            response = await self._http.get(self._url)
            response.raise_for_status()
            jwks = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise _reject("token_keys_unavailable", "the signing keys cannot be fetched") from exc
        self._keys = {key.key_id: key for key in jwks.keys if key.key_id}
        self._fetched_at = time.monotonic()

    async def _key(self, kid: str) -> jwt.PyJWK:
        age = time.monotonic() - self._fetched_at
        if kid not in self._keys or age > self._cache_seconds:
            async with self._lock:
                age = time.monotonic() - self._fetched_at
                stale = age > self._cache_seconds
                if stale or (kid not in self._keys and age >= self._min_refresh_seconds):
                    await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise _reject("token_signature_invalid", "the token was signed by an unknown key")
        return key

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of an OIDC token signed by one of the provider's keys (fetched and cached; an
        unknown `kid` refetches at most every `min_refresh_seconds`), issuer, audience and times
        checked. Raises Unauthorized (401, `token_*` code) otherwise."""
        header = _header(token, self._algorithms)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise _reject("token_malformed", "the token names no key id")
        key = await self._key(kid)
        return _decode(token, key, self._algorithms, self._issuer, self._audience, self._leeway)


def dev_secret(var_dir: Path) -> str:
    """Read the development secret, creating it on first use.

    Four processes may start at once: the secret is written to a temporary file and linked into
    place, which fails if another process won, so every process ends up with the same secret.
    """
    path = var_dir / DEV_SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = var_dir / f".{DEV_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    tmp.write_text(secrets.token_urlsafe(48))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()


def issue_dev_token(
    secret: str,
    *,
    subject: str,
    roles: list[str],
    teams: list[str],
    name: str | None = None,
    ttl_seconds: int = 8 * 3600,
) -> str:
    """A development token (HS256 JWT under `secret`) for `subject` with `roles` and `teams`, valid
    `ttl_seconds` (default 8 hours). Only development verifies it."""
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "name": name or subject,
        "roles": roles,
        "teams": teams,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)


def make_verifier(platform: PlatformSettings, http: httpx.AsyncClient) -> TokenVerifier:
    """The process's verifier: OIDC (JwksVerifier) when issuer, audience and JWKS URL are set, else
    the development secret under `var/`."""
    if platform.auth_jwks_url and platform.auth_issuer and platform.auth_audience:
        return JwksVerifier(
            http,
            jwks_url=platform.auth_jwks_url,
            issuer=platform.auth_issuer,
            audience=platform.auth_audience,
            algorithms=platform.auth_algorithms,
            leeway=platform.auth_leeway_seconds,
            cache_seconds=platform.auth_jwks_cache_seconds,
        )
    return SharedSecretVerifier(dev_secret(platform.var_dir), platform.auth_leeway_seconds)


def _string_list(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list | tuple):
        return frozenset(str(item) for item in value if isinstance(item, str | int))
    return frozenset()


def _claim(claims: dict[str, Any], dotted: str) -> Any:
    """Claim names may be paths, e.g. `realm_access.roles` for Keycloak."""
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# Claims end up in columns (authors, actors, team keys): a claim that no column can hold is a
# token the platform cannot serve, refused like any other bad token rather than failing later.
MAX_SUBJECT_CHARS, MAX_NAME_CHARS, MAX_KEY_CHARS = 255, 255, 64


def principal_from_claims(
    claims: dict[str, Any], platform: PlatformSettings, token: str = ""
) -> Principal:
    """The Principal a verified token's claims describe.

    Raises Unauthorized `token_claims_invalid` when the subject is empty or longer than 255
    characters, or when the subject, name, a team or a role holds NUL or an unpaired surrogate
    (kit/text.py), or a team or role is longer than 64 characters. A name longer than 255
    characters is cut, since it is only shown."""
    subject = str(claims["sub"])
    name_claim = _claim(claims, platform.auth_claim_name)
    name = (str(name_claim) if name_claim else subject)[:MAX_NAME_CHARS]
    teams = _string_list(_claim(claims, platform.auth_claim_teams))
    roles = _string_list(_claim(claims, platform.auth_claim_roles))
    if not 0 < len(subject) <= MAX_SUBJECT_CHARS:
        raise _reject("token_claims_invalid", "the token's subject is empty or too long")
    for value in (subject, name, *teams, *roles):
        if text_fault(value):
            raise _reject("token_claims_invalid", "a claim of the token holds unusable text")
    if any(len(key) > MAX_KEY_CHARS for key in (*teams, *roles)):
        raise _reject("token_claims_invalid", "a team or role of the token is too long")
    return Principal(subject=subject, name=name, teams=teams, roles=roles, token=token)


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header. Raises Unauthorized (401
    `token_missing` without the header, `token_malformed` for another scheme)."""
    if not authorization:
        raise Unauthorized(
            "a bearer token is required",
            code="token_missing",
            headers={"WWW-Authenticate": 'Bearer realm="werkvloer"'},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _reject("token_malformed", "the Authorization header is not a bearer token")
    return token.strip()


# Scope key under which kit/inbound.py keeps the principal it verified before reading a body.
VERIFIED_PRINCIPAL = "werkvloer.verified_principal"


async def authenticate(request: Request) -> Principal:
    """The caller of a bearer token; 401 (`Unauthorized`, with its code) when it does not verify.

    A token the inbound middleware already verified for this request is not verified again."""
    token = bearer_token(request.headers.get("authorization"))
    known = request.scope.get(VERIFIED_PRINCIPAL)
    if isinstance(known, Principal) and known.token == token:
        return known
    verifier: TokenVerifier = request.app.state.verifier
    claims = await verifier.verify(token)
    return principal_from_claims(claims, request.app.state.platform, token)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def require_roles(*roles: Role) -> Any:
    """A dependency that lets through callers with any of `roles`; admins always pass."""

    async def dependency(principal: PrincipalDep) -> Principal:
        if not (principal.is_admin or principal.has_role(*roles)):
            allowed = ", ".join(str(role) for role in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}", code="role_required")
        return principal

    return Depends(dependency)
