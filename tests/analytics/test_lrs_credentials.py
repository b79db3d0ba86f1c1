"""Issue 12 item 8 (OWASP API2): LRS client secrets are checked off the event loop, every
credential failure gets one answer after the same work, and failures are throttled per key and
per client address with 429 and Retry-After. No assertion here rests on wall-clock time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kit.settings import PlatformSettings
from services.analytics.credentials import guard as credentials
from tests.analytics.support import V, migrated_app
from tests.analytics.test_lrs_statements import statement
from tests.support.apps import bearer

MAX_FAILURES = 3


@dataclass
class Lrs:
    app: FastAPI
    platform: PlatformSettings

    def at(self, address: str) -> httpx.AsyncClient:
        """A client whose requests come from `address`."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 4711))
        return httpx.AsyncClient(transport=transport, base_url="http://test", headers=V)

    async def new_client(self, name: str = "Moodle") -> tuple[str, str]:
        async with self.at("10.0.0.1") as admin:
            made = await admin.post(
                "/v1/lrs-clients",
                json={"name": name},
                headers=bearer(self.platform, "root", "admin"),
            )
        return made.json()["key"], made.json()["secret"]


@pytest.fixture
async def lrs_app(platform: PlatformSettings, database_url: str) -> AsyncIterator[Lrs]:
    app = await migrated_app(
        platform, database_url, metrics_refresh_seconds=0, lrs_auth_max_failures=MAX_FAILURES
    )
    async with app.router.lifespan_context(app):
        yield Lrs(app, platform)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scrypt check that runs, by the hash it was checked against."""
    seen: list[str] = []
    real = credentials.secret_matches

    def counting(secret: str, stored: str) -> bool:
        seen.append(stored)
        return real(secret, stored)

    monkeypatch.setattr(credentials, "secret_matches", counting)
    return seen


async def send(client: httpx.AsyncClient, key: str, secret: str) -> httpx.Response:
    return await client.post(
        "/xapi/statements", json=statement(), auth=httpx.BasicAuth(key, secret)
    )


async def test_no_credentials_is_a_basic_challenge_not_a_call_for_a_bearer_token(
    lrs_app: Lrs,
) -> None:
    """An LMS waits for `WWW-Authenticate: Basic`; with and without a body, read and write."""
    async with lrs_app.at("10.6.0.1") as client:
        replies = [
            await client.get("/xapi/statements", params={"limit": 1}),
            await client.post("/xapi/statements", json=statement()),
        ]
    for reply in replies:
        assert reply.status_code == 401, reply.text
        assert reply.json()["error"]["code"] == "credentials_missing"
        challenge = reply.headers["WWW-Authenticate"]
        assert challenge.startswith('Basic realm="werkvloer-lrs"') and "Bearer" in challenge


async def test_every_credential_failure_gets_one_answer_after_the_same_work(
    lrs_app: Lrs, checks: list[str]
) -> None:
    key, secret = await lrs_app.new_client()
    revoked_key, revoked_secret = await lrs_app.new_client("old LMS")
    async with lrs_app.at("10.0.0.1") as admin:
        admin_token = bearer(lrs_app.platform, "root", "admin")
        await admin.delete(f"/v1/lrs-clients/{revoked_key}", headers=admin_token)
    answers = []
    attempts = [
        (key, "wrong"),
        ("lrs_0000000000000000", secret),  # unknown key
        (revoked_key, revoked_secret),
        ("lrs_\x00nul", "x"),  # a NUL in the key (500 on PostgreSQL before)
    ]
    for i, (k, s) in enumerate(attempts):
        async with lrs_app.at(f"10.1.0.{i}") as client:
            checks.clear()
            reply = await send(client, k, s)
            answers.append((reply.status_code, reply.json(), reply.headers["WWW-Authenticate"]))
            # Unknown and revoked keys cost one scrypt check too (against a dummy hash).
            assert len(checks) == 1, (k, checks)
    async with lrs_app.at("10.1.1.1") as client:
        unreadable = await client.post(
            "/xapi/statements", json=statement(), headers={"Authorization": "Basic %%%"}
        )
    answers.append(
        (unreadable.status_code, unreadable.json(), unreadable.headers["WWW-Authenticate"])
    )
    assert all(a == answers[0] for a in answers), answers
    status, body, _ = answers[0]
    assert (status, body["error"]["code"]) == (401, "lrs_credentials_invalid")


async def test_failures_are_throttled_per_key_with_retry_after(lrs_app: Lrs) -> None:
    """250 wrong secrets then the right one: after MAX_FAILURES tries every attempt, the right
    one included, is 429 until the window passes (from many addresses: the key's own count)."""
    key, secret = await lrs_app.new_client()
    statuses = []
    for i in range(12):
        async with lrs_app.at(f"10.2.0.{i}") as client:
            statuses.append((await send(client, key, f"guess-{i}")).status_code)
    assert statuses == [401] * MAX_FAILURES + [429] * (12 - MAX_FAILURES)
    async with lrs_app.at("10.2.1.1") as client:
        right = await send(client, key, secret)
    assert right.status_code == 429
    assert right.json()["error"]["code"] == "lrs_credentials_throttled"
    assert int(right.headers["Retry-After"]) >= 1

    # The window passes (a clock the test moves, not a sleep): the right secret works again.
    throttle = lrs_app.app.state.lrs_guard.throttle
    now = [throttle.clock() + throttle.window + 1]
    throttle.clock = lambda: now[0]
    async with lrs_app.at("10.2.1.1") as client:
        assert (await send(client, key, secret)).status_code == 200


async def test_failures_are_throttled_per_address_and_a_success_does_not_reset_it(
    lrs_app: Lrs,
) -> None:
    own_key, own_secret = await lrs_app.new_client("attacker's own client")
    async with lrs_app.at("10.3.0.1") as client:
        for i in range(MAX_FAILURES - 1):
            assert (await send(client, f"lrs_{i:016x}", "guess")).status_code == 401
        # A valid login of the attacker's own client from the same address…
        assert (await send(client, own_key, own_secret)).status_code == 200
        # …does not buy more guesses there.
        assert (await send(client, "lrs_ffffffffffffffff", "guess")).status_code == 401
        blocked = await send(client, "lrs_eeeeeeeeeeeeeeee", "guess")
        assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    async with lrs_app.at("10.3.0.2") as elsewhere:  # another address is not affected
        assert (await send(elsewhere, own_key, own_secret)).status_code == 200


async def test_an_attacker_at_a_shared_address_does_not_lock_working_clients_out(
    lrs_app: Lrs, checks: list[str]
) -> None:
    """Behind one NAT or proxy, an LMS that proved its secret keeps working while someone at
    the same address is throttled for guessing (its secret is remembered: no scrypt, no guess)."""
    key, secret = await lrs_app.new_client("Moodle")
    async with lrs_app.at("10.5.0.1") as shared:
        assert (await send(shared, key, secret)).status_code == 200
        for i in range(MAX_FAILURES):
            assert (await send(shared, f"lrs_{i:016x}", "guess")).status_code == 401
        assert (await send(shared, "lrs_dddddddddddddddd", "guess")).status_code == 429
        before = len(checks)
        assert (await send(shared, key, secret)).status_code == 200
        assert len(checks) == before  # answered from memory, not a fresh check
        wrong = await send(shared, key, "not-the-secret")
        assert wrong.status_code == 429  # a different secret is a guess: throttled


async def test_concurrent_guesses_cannot_slip_past_the_limit(
    lrs_app: Lrs, checks: list[str]
) -> None:
    key, _ = await lrs_app.new_client()
    async with lrs_app.at("10.4.0.1") as client:
        replies = await asyncio.gather(*(send(client, key, f"g{i}") for i in range(20)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [401] * MAX_FAILURES + [429] * (20 - MAX_FAILURES)
    assert len(checks) == MAX_FAILURES  # refused attempts cost no scrypt at all


async def test_the_event_loop_answers_while_a_secret_is_being_checked(
    lrs_app: Lrs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check held open in its thread: /healthz and other requests are still answered. Were
    the check on the event loop, nothing else could run until it was released."""
    key, _ = await lrs_app.new_client()
    started, release = threading.Event(), threading.Event()

    def held(secret: str, stored: str) -> bool:
        started.set()
        release.wait(timeout=60)  # a safety net only; the test releases it
        return False

    monkeypatch.setattr(credentials, "secret_matches", held)
    async with lrs_app.at("10.5.0.1") as client:
        pending = asyncio.ensure_future(send(client, key, "wrong"))
        assert await asyncio.to_thread(started.wait, 60)
        health = await client.get("/healthz")
        about = await client.get("/xapi/about")
        order: list[Any] = [health.status_code, about.status_code, pending.done()]
        release.set()
        reply = await pending
    assert order == [200, 200, False]
    assert reply.status_code == 401
