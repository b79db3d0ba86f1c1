"""GraphiQL (gateway) and Swagger UI (each service's /docs) render in a real Chromium with every
host but this machine unreachable: their scripts come from installed packages, not from a CDN,
and GraphiQL runs under the strict Content-Security-Policy its page sends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from gateway.app import create_app as create_gateway
from gateway.ide import CONTENT_SECURITY_POLICY
from gateway.settings import GatewaySettings
from kit.migrations import upgrade
from kit.settings import PlatformSettings
from services.ideas.app import MIGRATIONS as IDEAS_MIGRATIONS
from services.ideas.app import create_app as create_ideas
from tests.ideas.conftest import _seed_teams, ideas_settings
from tests.support.browser import render_offline
from tests.support.servers import serve_in_thread
from tests.support.waiting import HTTP_TIMEOUT


def _same_origin_only(requests: list[str], base: str) -> None:
    assert requests, "the page made no request"
    outside = [url for url in requests if not url.startswith(base + "/")]
    assert outside == [], f"requests to other hosts: {outside}"


def test_graphiql_renders_offline_under_its_csp(platform: PlatformSettings) -> None:
    gateway = create_gateway(GatewaySettings(platform=platform))
    with serve_in_thread(gateway) as base:
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=HTTP_TIMEOUT)
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self';" in CONTENT_SECURITY_POLICY  # no inline script, no eval
        assert "<script>" not in page.text and "unpkg.com" not in page.text
        rendered = render_offline(f"{base}/graphql")
    assert 'class="graphiql-container' in rendered.dom, rendered.dom[:2000]
    assert "graphiql-editor" in rendered.dom and "Loading…" not in rendered.dom
    _same_origin_only(rendered.page_requests, base)
    assert f"{base}/ide/graphiql.min.js" in rendered.page_requests
    # The editor asked the gateway for its schema (introspection) from the page's origin.
    assert rendered.page_requests.count(f"{base}/graphql") >= 2


def test_graphiql_files_are_a_fixed_list(platform: PlatformSettings) -> None:
    gateway = create_gateway(GatewaySettings(platform=platform))
    with serve_in_thread(gateway) as base:
        for name in ("../__init__.py", "..%2F__init__.py", "package.json", "react/package.json"):
            response = httpx.get(f"{base}/ide/{name}", timeout=HTTP_TIMEOUT)
            assert response.status_code == 404, name


def test_no_graphiql_and_no_docs_in_production(tmp_path: Path) -> None:
    production = PlatformSettings(
        environment="production",
        var_dir=tmp_path,
        auth_issuer="https://id.example",
        auth_audience="werkvloer",
        auth_jwks_url="http://127.0.0.1:9/jwks",
        _env_file=None,
    )
    app = create_gateway(GatewaySettings(platform=production))
    routes = {getattr(route, "path", "") for route in app.routes}
    assert not routes & {"/ide/{name}", "/docs", "/docs/assets"}, routes


def test_swagger_ui_renders_offline(platform: PlatformSettings, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ideas.db'}"
    upgrade(IDEAS_MIGRATIONS, url)
    asyncio.run(_seed_teams(url))
    with serve_in_thread(create_ideas(ideas_settings(platform, url))) as base:
        page = httpx.get(f"{base}/docs", timeout=HTTP_TIMEOUT).text
        assert "cdn.jsdelivr.net" not in page and "/docs/assets/swagger-ui-bundle.js" in page
        rendered = render_offline(f"{base}/docs")
    assert 'class="swagger-ui' in rendered.dom, rendered.dom[:2000]
    assert "opblock" in rendered.dom  # the operations of the OpenAPI document are listed
    _same_origin_only(rendered.page_requests, base)
    assert f"{base}/openapi.json" in rendered.page_requests
