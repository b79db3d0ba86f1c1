"""Webhooks: SSRF-safe targets, signed deliveries over real HTTP, retries, and a record of each."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.ideas.workers import WebhookDispatcher
from tests.ideas.conftest import IdeasEnv
from tests.support.servers import serve_in_thread
from tests.support.waiting import DEADLINE_SECONDS, wait_until_async

FORBIDDEN_TARGETS = [
    "http://127.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:8001/v1/ideas",
    "http://[::1]/hook",
    "http://10.0.0.8/hook",
    "http://192.168.1.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as a number
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", FORBIDDEN_TARGETS)
async def test_private_targets_are_refused_by_default(ideas: IdeasEnv, url: str) -> None:
    response = await ideas.client.post("/v1/webhooks", json={"url": url}, headers=ideas.as_("root"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "webhook_target_forbidden"
    assert await ideas.scalar("SELECT count(*) FROM webhooks") == 0


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "http://user:pw@example.org/x", "not a url at all", "/relative/path"],
)
async def test_malformed_targets_are_refused(ideas: IdeasEnv, url: str) -> None:
    response = await ideas.client.post("/v1/webhooks", json={"url": url}, headers=ideas.as_("root"))
    assert response.status_code == 422


async def test_only_admins_manage_webhooks(ideas: IdeasEnv) -> None:
    response = await ideas.client.post(
        "/v1/webhooks", json={"url": "https://example.org/hook"}, headers=ideas.as_("carla")
    )
    assert response.status_code == 403
    assert (await ideas.client.get("/v1/webhooks", headers=ideas.as_("bob"))).status_code == 403


class Receiver:
    """A stand-in for a chat or ticketing system: records what it receives, fails on demand."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            if self.fail_next:
                self.fail_next -= 1
                return Response(status_code=503)
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in headers["werkvloer-signature"].split(","))
    mac = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, parts["v1"])


async def _drain(ideas: IdeasEnv, rounds: int = 3) -> None:
    dispatcher = WebhookDispatcher(
        ideas.app.state.database, ideas.app.state.http, ideas.app.state.settings
    )
    for _ in range(rounds):
        await dispatcher.run_once()


async def _make_due(ideas: IdeasEnv) -> None:
    from sqlalchemy import text

    from kit.db import Database

    database = Database(ideas.database_url)
    async with database.engine.begin() as connection:
        await connection.execute(text("UPDATE webhook_deliveries SET next_attempt_at = created_at"))
    await database.dispose()


@pytest.mark.parametrize(
    "ideas_overrides", [{"webhooks_allow_private_targets": True, "webhook_max_attempts": 3}]
)
async def test_signed_delivery_with_retries_and_a_record(ideas: IdeasEnv) -> None:
    receiver = Receiver()
    with serve_in_thread(receiver.app()) as base_url:
        made = await ideas.client.post(
            "/v1/webhooks",
            json={"url": f"{base_url}/hook", "events": ["idea.created", "idea.transitioned"]},
            headers=ideas.as_("root"),
        )
        assert made.status_code == 201, made.text
        hook: dict[str, Any] = made.json()
        assert hook["secret"].startswith("whsec_")
        listed = await ideas.client.get("/v1/webhooks", headers=ideas.as_("root"))
        assert listed.json()[0]["secret"] is None  # shown once only

        receiver.fail_next = 1
        idea = await ideas.create(submit=True)
        await ideas.client.put(
            f"/v1/ideas/{idea['id']}/support", headers=ideas.as_("bob")
        )  # not subscribed
        await _drain(ideas)
        await _make_due(ideas)  # skip the back-off wait
        await _drain(ideas)

        events = [json.loads(body)["event"] for _, body in receiver.received]
        assert sorted(events) == ["idea.created", "idea.transitioned"]
        for headers, body in receiver.received:
            assert _verify(hook["secret"], headers, body)
            assert headers["werkvloer-event"] in {"idea.created", "idea.transitioned"}
        transitioned = next(json.loads(b) for _, b in receiver.received if b"transitioned" in b)
        assert transitioned["transition"]["to"] == "submitted"

        deliveries = await ideas.client.get(
            f"/v1/webhooks/{hook['id']}/deliveries", headers=ideas.as_("root")
        )
        records = deliveries.json()
        assert {d["status"] for d in records} == {"delivered"}
        assert sorted(d["attempts"] for d in records) == [1, 2]  # one failed once, then arrived


@pytest.mark.parametrize(
    "ideas_overrides", [{"webhooks_allow_private_targets": True, "webhook_max_attempts": 2}]
)
async def test_delivery_gives_up_after_the_last_attempt(ideas: IdeasEnv) -> None:
    receiver = Receiver()
    receiver.fail_next = 10
    with serve_in_thread(receiver.app()) as base_url:
        hook = (
            await ideas.client.post(
                "/v1/webhooks", json={"url": f"{base_url}/hook"}, headers=ideas.as_("root")
            )
        ).json()
        await ideas.create()
        for _ in range(3):
            await _drain(ideas)
            await _make_due(ideas)
    records = (
        await ideas.client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=ideas.as_("root"))
    ).json()
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in records] == [
        ("failed", 2, 503)
    ]


async def test_a_target_that_turns_private_is_not_called(ideas: IdeasEnv) -> None:
    """Registered while public; by delivery time the setting forbids it: it is not sent."""
    from kit.db import Database
    from services.ideas.models import Webhook

    database = Database(ideas.database_url)
    async with database.sessions() as session:
        session.add(
            Webhook(
                url="http://127.0.0.1:9/hook",
                secret="whsec_x",
                events=["idea.created"],
                created_by="root",
            )
        )
        await session.commit()
    await database.dispose()
    await ideas.create()
    await _drain(ideas, rounds=1)
    rows = await ideas.rows(
        "SELECT status, attempts, last_status_code, last_error FROM webhook_deliveries"
    )
    assert rows[0][1] == 1 and rows[0][2] is None
    assert "loopback" in rows[0][3]


class HangingReceiver:
    """A receiver that takes a delivery and answers 204 only once the test releases it."""

    def __init__(self) -> None:
        self.called = threading.Event()
        self.release = threading.Event()

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.called.set()
            await asyncio.to_thread(self.release.wait, DEADLINE_SECONDS)
            return Response(status_code=204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


@pytest.mark.parametrize("ideas_overrides", [{"webhooks_allow_private_targets": True}])
async def test_a_slow_receiver_does_not_hold_up_other_writes(ideas: IdeasEnv) -> None:
    """While a delivery waits for its receiver's answer, other writes go through: no
    transaction is open meanwhile (on SQLite it would hold the one write lock until the answer,
    and writes would wait, then fail with "database is locked")."""
    receiver = HangingReceiver()
    with serve_in_thread(receiver.app()) as base_url:
        made = await ideas.client.post(
            "/v1/webhooks", json={"url": f"{base_url}/hook"}, headers=ideas.as_("root")
        )
        assert made.status_code == 201, made.text
        await ideas.create()  # queues one idea.created delivery
        sending = asyncio.create_task(_drain(ideas, rounds=1))

        async def in_flight() -> bool:
            if sending.done():
                sending.result()  # its error, if it failed
                raise AssertionError("the delivery ended without reaching the receiver")
            return receiver.called.is_set()

        try:
            await wait_until_async(in_flight, "the delivery reaching its receiver")
            await ideas.create(title="Tijdens een trage levering")
            assert not sending.done()  # the write finished first; the delivery still waits
        finally:
            receiver.release.set()
        await sending
    records = (
        await ideas.client.get(
            f"/v1/webhooks/{made.json()['id']}/deliveries", headers=ideas.as_("root")
        )
    ).json()
    assert [(d["status"], d["attempts"]) for d in records] == [("pending", 0), ("delivered", 1)]
