"""Every way a bearer token can be wrong gets its own 401 code; a missing role gets 403."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kit.app import create_service_app
from kit.auth import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    JwksVerifier,
    Role,
    dev_secret,
    issue_dev_token,
    require_roles,
)
from kit.settings import ConfigurationError, PlatformSettings, ServiceSettings
from tests.support.apps import app_client, bearer
from tests.support.servers import serve_in_thread


def _app(platform: PlatformSettings) -> FastAPI:
    admin_only = APIRouter()

    @admin_only.get("/v1/admin-only", dependencies=[require_roles(Role.admin)])
    async def admin_only_route() -> dict[str, bool]:
        return {"ok": True}

    @admin_only.get("/v1/coach-or-analyst", dependencies=[require_roles(Role.coach, Role.analyst)])
    async def coach_route() -> dict[str, bool]:
        return {"ok": True}

    return create_service_app(
        service="probe",
        settings=ServiceSettings(platform=platform),
        database_url=None,
        routers=[admin_only],
        description="auth probe",
    )


@pytest.fixture
async def client(platform: PlatformSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(_app(platform)) as client:
        yield client


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": "alice",
        "name": "Alice",
        "roles": ["worker"],
        "teams": ["packaging"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(platform: PlatformSettings, **overrides: Any) -> dict[str, str]:
    token = jwt.encode(_claims(**overrides), dev_secret(platform.var_dir), algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


async def _assert_401(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="werkvloer"')


async def test_valid_token_gives_the_principal(client: httpx.AsyncClient, platform) -> None:
    response = await client.get("/v1/me", headers=_signed(platform))
    assert response.status_code == 200
    assert response.json() == {
        "subject": "alice",
        "name": "Alice",
        "teams": ["packaging"],
        "roles": ["worker"],
    }


async def test_missing_token(client: httpx.AsyncClient) -> None:
    await _assert_401(await client.get("/v1/me"), "token_missing")


async def test_not_a_bearer_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    await _assert_401(response, "token_malformed")


async def test_garbage_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    await _assert_401(response, "token_malformed")


async def test_expired_token(client: httpx.AsyncClient, platform) -> None:
    past = int(time.time()) - 3600
    response = await client.get(
        "/v1/me", headers=_signed(platform, exp=past, iat=past - 60, nbf=past - 60)
    )
    await _assert_401(response, "token_expired")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x" * 256},  # no author or actor column holds it (PostgreSQL would fail later)
        {"sub": ""},
        {"sub": "ali\x00ce"},
        {"name": "Al\ud800ice"},
        {"teams": ["pack\x00aging"]},
        {"teams": ["t" * 65]},
        {"roles": ["worker", "r\udc00"]},
    ],
)
async def test_claims_no_column_can_hold_make_the_token_invalid(
    client: httpx.AsyncClient, platform: PlatformSettings, claims: dict[str, Any]
) -> None:
    response = await client.get("/v1/me", headers=_signed(platform, **claims))
    await _assert_401(response, "token_claims_invalid")


async def test_a_long_display_name_is_cut_not_refused(
    client: httpx.AsyncClient, platform: PlatformSettings
) -> None:
    response = await client.get("/v1/me", headers=_signed(platform, name="N" * 300))
    assert response.status_code == 200
    assert response.json()["name"] == "N" * 255


async def test_not_yet_valid_token(client: httpx.AsyncClient, platform) -> None:
    future = int(time.time()) + 3600
    response = await client.get("/v1/me", headers=_signed(platform, nbf=future))
    await _assert_401(response, "token_not_yet_valid")


async def test_wrong_issuer(client: httpx.AsyncClient, platform) -> None:
    response = await client.get("/v1/me", headers=_signed(platform, iss="https://evil.example"))
    await _assert_401(response, "token_issuer_invalid")


async def test_wrong_audience(client: httpx.AsyncClient, platform) -> None:
    response = await client.get("/v1/me", headers=_signed(platform, aud="someone-else"))
    await _assert_401(response, "token_audience_invalid")


async def test_bad_signature(client: httpx.AsyncClient) -> None:
    forged = jwt.encode(_claims(roles=["admin"]), "a-guessed-secret-of-sufficient-length!", "HS256")
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    await _assert_401(response, "token_signature_invalid")


async def test_alg_none_is_refused(client: httpx.AsyncClient) -> None:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims(roles=['admin']))}."
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {unsigned}"})
    await _assert_401(response, "token_algorithm_not_allowed")


async def test_missing_subject(client: httpx.AsyncClient, platform) -> None:
    token = jwt.encode(
        {k: v for k, v in _claims().items() if k != "sub"}, dev_secret(platform.var_dir), "HS256"
    )
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    await _assert_401(response, "token_claim_missing")


async def test_missing_role_is_403(client: httpx.AsyncClient, platform) -> None:
    response = await client.get("/v1/admin-only", headers=bearer(platform, roles="worker,coach"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_required"


async def test_any_listed_role_passes_and_admin_passes_all(
    client: httpx.AsyncClient, platform
) -> None:
    analyst = await client.get("/v1/coach-or-analyst", headers=bearer(platform, roles="analyst"))
    admin = await client.get("/v1/coach-or-analyst", headers=bearer(platform, roles="admin"))
    worker = await client.get("/v1/coach-or-analyst", headers=bearer(platform, roles="worker"))
    assert (analyst.status_code, admin.status_code, worker.status_code) == (200, 200, 403)


def test_dev_secret_is_made_once_and_shared(tmp_path: Path) -> None:
    first = dev_secret(tmp_path / "var")
    assert len(first) >= 40
    assert dev_secret(tmp_path / "var") == first
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["dev-jwt-secret"]


async def test_dev_secret_race_between_processes_yields_one_secret(tmp_path: Path) -> None:
    secrets = await asyncio.gather(
        *(asyncio.to_thread(dev_secret, tmp_path / "var") for _ in range(16))
    )
    assert len(set(secrets)) == 1


def test_dev_tokens_from_another_installation_are_refused(tmp_path: Path) -> None:
    other = issue_dev_token(dev_secret(tmp_path / "a"), subject="x", roles=[], teams=[])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(other, dev_secret(tmp_path / "b"), ["HS256"], audience=DEV_AUDIENCE)


def test_production_refuses_to_start_without_an_identity_provider(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="WERKVLOER_AUTH_ISSUER"):
        PlatformSettings(environment="production", var_dir=tmp_path, _env_file=None)  # type: ignore[arg-type,call-arg]


def test_production_refuses_shared_secret_algorithms(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="asymmetric"):
        PlatformSettings(  # type: ignore[call-arg]
            environment="production",  # type: ignore[arg-type]
            auth_issuer="https://id.example",
            auth_audience="werkvloer",
            auth_jwks_url="https://id.example/jwks",
            auth_algorithms=["HS256"],
            _env_file=None,
        )


# --- OIDC: tokens checked against a JWKS served over real HTTP ---------------------------------


class KeyServer:
    """A stand-in identity provider: publishes whatever keys the test puts in `keys`."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            self.fetches += 1
            entries = []
            for kid, key in self.keys.items():
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                entries.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
            return JSONResponse({"keys": entries})

        return Starlette(routes=[Route("/jwks", jwks)])

    def token(self, kid: str, **overrides: Any) -> str:
        claims = _claims(iss="https://id.example", aud="werkvloer", **overrides)
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


def jwks_verifier(http: httpx.AsyncClient, base_url: str, **options: Any) -> JwksVerifier:
    """A verifier of `KeyServer` tokens, its keys fetched from `base_url`."""
    return JwksVerifier(
        http,
        jwks_url=f"{base_url}/jwks",
        issuer="https://id.example",
        audience="werkvloer",
        algorithms=["RS256"],
        **options,
    )


@pytest.fixture
def key_server() -> KeyServer:
    server = KeyServer()
    server.add_key("k1")
    return server


async def test_jwks_tokens_verify_and_rotation_refreshes_keys(key_server: KeyServer) -> None:
    with serve_in_thread(key_server.app()) as base_url:
        async with httpx.AsyncClient() as http:
            verifier = jwks_verifier(http, base_url, min_refresh_seconds=0)
            assert (await verifier.verify(key_server.token("k1")))["sub"] == "alice"
            assert (await verifier.verify(key_server.token("k1")))["sub"] == "alice"
            assert key_server.fetches == 1  # cached

            key_server.add_key("k2")  # the provider rotates its keys
            assert (await verifier.verify(key_server.token("k2", sub="bob")))["sub"] == "bob"
            assert key_server.fetches == 2


async def test_jwks_refuses_unknown_key_and_rate_limits_refetches(key_server: KeyServer) -> None:
    stranger = KeyServer()
    stranger.add_key("k9")
    with serve_in_thread(key_server.app()) as base_url:
        async with httpx.AsyncClient() as http:
            verifier = jwks_verifier(http, base_url, min_refresh_seconds=60)
            for _ in range(5):
                with pytest.raises(Exception) as info:
                    await verifier.verify(stranger.token("k9"))
                assert getattr(info.value, "code", None) == "token_signature_invalid"
            assert key_server.fetches == 1


async def test_jwks_refuses_a_token_signed_by_a_stranger_with_a_known_kid(
    key_server: KeyServer,
) -> None:
    impostor = KeyServer()
    impostor.add_key("k1")  # same kid, different key
    with serve_in_thread(key_server.app()) as base_url:
        async with httpx.AsyncClient() as http:
            verifier = jwks_verifier(http, base_url)
            with pytest.raises(Exception) as info:
                await verifier.verify(impostor.token("k1"))
            assert getattr(info.value, "code", None) == "token_signature_invalid"


async def test_service_in_oidc_mode_checks_tokens_over_http(
    key_server: KeyServer, tmp_path: Path
) -> None:
    with serve_in_thread(key_server.app()) as base_url:
        platform = PlatformSettings(  # type: ignore[call-arg]
            var_dir=tmp_path,
            auth_issuer="https://id.example",
            auth_audience="werkvloer",
            auth_jwks_url=f"{base_url}/jwks",
            auth_claim_roles="realm_access.roles",
            _env_file=None,
        )
        async with app_client(_app(platform)) as client:
            token = key_server.token("k1", roles=None, realm_access={"roles": ["coach"]})
            response = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            assert response.json()["roles"] == ["coach"]
            # A development token is worthless once an identity provider is configured.
            dev = issue_dev_token(dev_secret(tmp_path), subject="x", roles=["admin"], teams=[])
            response = await client.get("/v1/me", headers={"Authorization": f"Bearer {dev}"})
            await _assert_401(response, "token_algorithm_not_allowed")
