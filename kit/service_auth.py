"""Service-to-service credentials: what one Werkvloer process sends when it calls another's
internal endpoint, and the check that lets only such callers in.

An internal endpoint (e.g. one service's embeddings endpoint, which another uses for duplicate
search) is meant for the platform's own processes, never for people: it is expensive and it
returns nothing a person needs. Its callers carry a bearer token with the `service` role, checked
like any other token (kit/auth.py). This follows the outbox relay, which calls its receiver with
the credentials or development roles its service gives it (kit/relay_app.py):

- production: `<PREFIX>_SERVICE_TOKEN`, a token the identity provider issued to the calling
  process (a client with the `service` role); without it the call is not made;
- development: left empty, a short-lived development token (`sub` = `service:<name>`,
  role `service`) is minted with the shared development secret.

An `admin` does *not* pass `require_service`: an administrator is a person, not a process.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import Depends

from kit.auth import Principal, PrincipalDep, Role, dev_secret, issue_dev_token
from kit.errors import Forbidden
from kit.settings import ServiceSettings

_TTL_SECONDS = 3600
_RENEW_BEFORE_SECONDS = 600
_minted: dict[tuple[str, str], tuple[str, float]] = {}


def service_headers(settings: ServiceSettings, service: str) -> dict[str, str] | None:
    """`Authorization` header for calling another service's internal endpoint as `service`.

    Returns the configured `service_token`, else (development only) a minted development token
    renewed ten minutes before it expires; None in production without a configured token, in
    which case the caller must not make the call."""
    if settings.service_token:
        return {"Authorization": f"Bearer {settings.service_token}"}
    platform = settings.platform
    if platform.is_production:
        return None
    key = (str(platform.var_dir), service)
    token, until = _minted.get(key, ("", 0.0))
    if until - time.time() < _RENEW_BEFORE_SECONDS:
        token = issue_dev_token(
            dev_secret(platform.var_dir),
            subject=f"service:{service}",
            roles=[Role.service.value],
            teams=[],
            ttl_seconds=_TTL_SECONDS,
        )
        _minted[key] = (token, time.time() + _TTL_SECONDS)
    return {"Authorization": f"Bearer {token}"}


async def _only_services(principal: PrincipalDep) -> Principal:
    if not principal.has_role(Role.service):
        raise Forbidden("this endpoint is for the platform's own services", code="service_only")
    return principal


def require_service() -> Any:
    """A route dependency: 403 `service_only` unless the token has the `service` role
    (admins included: they are people). Authentication failures stay 401 as everywhere."""
    return Depends(_only_services)
