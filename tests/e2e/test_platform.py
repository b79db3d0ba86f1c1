"""The four processes over real HTTP, started the way `make run` starts them."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import mint_with_cli
from tests.support import http
from tests.support.platform import Platform

pytestmark = pytest.mark.e2e

HEALTH = "{ health { service status } }"


def _health(gateway: str) -> dict[str, str]:
    response = http.post(f"{gateway}/graphql", json={"query": HEALTH})
    assert response.status_code == 200, response.text
    return {h["service"]: h["status"] for h in response.json()["data"]["health"]}


def test_platform_comes_up_and_survives_a_service_going_down(platform_processes: Platform) -> None:
    platform = platform_processes
    gateway = platform.urls["gateway"]
    assert http.get(f"{gateway}/healthz").status_code == 200
    assert _health(gateway) == {"ideas": "UP", "reflection": "UP", "analytics": "UP"}

    token = mint_with_cli(platform, "dana", "coach")
    auth = {"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-trace-42"}
    me = http.post(f"{gateway}/graphql", json={"query": "{ me { subject } }"}, headers=auth)
    assert me.json()["data"]["me"]["subject"] == "dana"
    # The same token, minted once, is accepted by every service: they share the dev secret.
    for service in ("ideas", "reflection", "analytics"):
        response = http.get(f"{platform.urls[service]}/v1/me", headers=auth)
        assert response.json()["subject"] == "dana"
    assert '"request_id": "e2e-trace-42"' in platform.log("gateway")

    platform.stop("analytics")
    assert _health(gateway) == {"ideas": "UP", "reflection": "UP", "analytics": "DOWN"}
    assert http.get(f"{gateway}/healthz").status_code == 200

    platform.start("analytics")
    assert _health(gateway)["analytics"] == "UP"
