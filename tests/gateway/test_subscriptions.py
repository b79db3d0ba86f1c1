"""Subscriptions over WebSocket (graphql-transport-ws) against real services over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kit.settings import PlatformSettings
from tests.gateway.conftest import DEAD
from tests.support.apps import bearer

PROTOCOL = "graphql-transport-ws"


def _gateway(platform: PlatformSettings, services: dict[str, str]) -> TestClient:
    settings = GatewaySettings(
        platform=platform,
        ideas_url=services["ideas"],
        reflection_url=services["reflection"],
        analytics_url=DEAD,
        subscription_poll_seconds=0.1,
    )
    return TestClient(create_app(settings))


def _subscribe(ws: Any, token: str, query: str, **variables: Any) -> None:
    ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json(
        {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )


def _next(ws: Any) -> dict[str, Any]:
    message = ws.receive_json()
    assert message["type"] == "next", message
    return dict(message["payload"])


def test_idea_changes_arrive_as_they_happen(
    platform: PlatformSettings, services: dict[str, str]
) -> None:
    worker = bearer(platform, "wim", "worker", "packaging")
    coach = bearer(platform, "carla", "coach", "packaging")
    body = {
        "title": "Kar met mallen",
        "problem": "Zoeken kost tijd.",
        "team": "packaging",
        "submit": True,
    }
    idea = httpx.post(f"{services['ideas']}/v1/ideas", json=body, headers=worker).json()
    query = "subscription($id: ID!) { ideaChanged(id: $id) { status version } }"
    with (
        _gateway(platform, services) as client,
        client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        _subscribe(ws, worker["Authorization"].split()[1], query, id=idea["id"])
        first = _next(ws)["data"]["ideaChanged"]
        assert first["status"] == "SUBMITTED"
        moved = httpx.post(
            f"{services['ideas']}/v1/ideas/{idea['id']}/transitions",
            json={"to": "in_review"},
            headers={**coach, "If-Match": f'"{idea["version"]}"'},
        )
        assert moved.status_code == 200, moved.text
        after = _next(ws)["data"]["ideaChanged"]
        assert after == {"status": "IN_REVIEW", "version": first["version"] + 1}


def test_a_subscription_without_a_token_is_refused(
    platform: PlatformSettings, services: dict[str, str]
) -> None:
    with (
        _gateway(platform, services) as client,
        client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": 'subscription { ideaChanged(id: "x") { status } }'},
            }
        )
        message = ws.receive_json()
        # Refused inside the subscription: a `next` carrying only errors, then `complete`.
        assert message["type"] == "next" and message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_reflection_question_streams_through_the_gateway(
    platform: PlatformSettings, services: dict[str, str]
) -> None:
    worker = bearer(platform, "wim", "worker", "packaging")
    query = """subscription($input: StartReflectionInput!) { startReflectionStream(input: $input) {
      __typename ... on ReflectionToken { text } ... on Reflection { id currentStage stages { question } }
      ... on ReflectionStreamError { code } } }"""
    experience = "Vandaag liep de inpaklijn vast en ik wist niet wat ik mocht doen."
    with (
        _gateway(platform, services) as client,
        client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws,
    ):
        _subscribe(ws, worker["Authorization"].split()[1], query, input={"experience": experience})
        events = []
        while True:
            message = ws.receive_json()
            if message["type"] == "complete":
                break
            events.append(message["payload"]["data"]["startReflectionStream"])
    kinds = [e["__typename"] for e in events]
    assert kinds[-1] == "Reflection" and "ReflectionToken" in kinds
    streamed = "".join(e["text"] for e in events if e["__typename"] == "ReflectionToken")
    assert streamed == events[-1]["stages"][0]["question"]
    assert events[-1]["currentStage"] == "what"
