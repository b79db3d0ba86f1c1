"""Every process serves Prometheus metrics, and a W3C trace started by a client follows a
GraphQL operation from the gateway into the service that answers it (visible in its logs)."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.conftest import mint
from tests.support import http
from tests.support.platform import Platform
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


def test_every_process_serves_prometheus_metrics(platform_processes: Platform) -> None:
    for name, url in platform_processes.urls.items():
        http.get(f"{url}/healthz")
        response = http.get(f"{url}/metrics")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/plain")
        assert (
            f'werkvloer_http_requests_total{{method="GET",route="/healthz",service="{name}",status="200"}}'
            in response.text
        )


def test_a_trace_follows_an_operation_into_the_services(platform_processes: Platform) -> None:
    platform = platform_processes
    trace_id = secrets.token_hex(16)
    headers = {
        "Authorization": f"Bearer {mint(platform, 'tracy', 'worker', 'packaging')}",
        "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
    }
    response = http.post(
        f"{platform.urls['gateway']}/graphql",
        json={"query": "{ ideas(first: 1) { edges { node { id } } } }"},
        headers=headers,
    )
    assert response.status_code == 200 and "errors" not in response.json()

    def logged(name: str) -> bool:
        return f'"trace_id": "{trace_id}"' in platform.log(name)

    # A log line may be written a moment after the answer has gone.
    wait_until(lambda: logged("gateway") and logged("ideas"), "gateway and ideas logging the trace")
    metrics = http.get(f"{platform.urls['gateway']}/metrics").text
    assert 'werkvloer_gateway_upstream_requests_total{outcome="ok",service="ideas"}' in metrics


def test_lms_plugins_reach_the_lrs_through_the_gateway(platform_processes: Platform) -> None:
    """The Ingress exposes only the gateway: xAPI must work through it, credentials unchanged."""
    platform = platform_processes
    lms = {
        "Authorization": f"Bearer {mint(platform, 'moodle', 'lrs-client')}",
        "X-Experience-API-Version": "1.0.3",
    }
    statement = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example", "name": "s1"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"objectType": "Activity", "id": "https://lms.example/courses/vca"},
    }
    gateway = platform.urls["gateway"]
    stored = http.post(f"{gateway}/xapi/statements", json=statement, headers=lms)
    assert stored.status_code == 200, stored.text
    (statement_id,) = stored.json()
    read = http.get(f"{gateway}/xapi/statements", params={"statementId": statement_id}, headers=lms)
    assert read.status_code == 200 and read.json()["id"] == statement_id
    assert read.headers["X-Experience-API-Version"] == "1.0.3"
    anonymous = http.get(
        f"{gateway}/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"}
    )
    assert anonymous.status_code == 401
