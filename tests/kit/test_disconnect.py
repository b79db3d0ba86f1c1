"""Work for a caller who has gone is abandoned (kit/disconnect.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request

from kit.disconnect import until_disconnected
from kit.errors import install_error_handlers
from tests.support.waiting import DEADLINE_SECONDS


def _app(events: list[str], started: asyncio.Event, release: asyncio.Event) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    async def expensive() -> dict[str, str]:
        events.append("started")
        started.set()
        try:
            await release.wait()  # stands for an embedding or a call to another service
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        events.append("finished")
        return {"done": "yes"}

    @app.post("/work")
    async def work(body: dict[str, Any], request: Request) -> dict[str, str]:
        return await until_disconnected(request, expensive())

    return app


async def _drive(app: FastAPI, leave: asyncio.Event) -> list[dict[str, Any]]:
    """One POST whose client disconnects when `leave` is set; returns what the app sent."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"{}", "more_body": False}
        await leave.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/work",
        "raw_path": b"/work",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent


async def _started() -> tuple[list[str], asyncio.Event, asyncio.Event, asyncio.Future[Any]]:
    """The work running for one caller: its events, `release` (finish the work), `leave` (the
    caller goes) and the future of what the app sends."""
    events: list[str] = []
    started, release, leave = asyncio.Event(), asyncio.Event(), asyncio.Event()
    driving = asyncio.ensure_future(_drive(_app(events, started, release), leave))
    await started.wait()
    return events, release, leave, driving


async def test_the_work_is_cancelled_when_the_client_goes() -> None:
    events, _, leave, driving = await _started()
    leave.set()  # the caller gives up while the work runs
    sent = await asyncio.wait_for(driving, DEADLINE_SECONDS)  # without the cancel: never ends
    assert events == ["started", "cancelled"]
    assert sent[0]["status"] == 499


async def test_the_work_finishes_for_a_caller_who_waits() -> None:
    events, release, _, driving = await _started()
    release.set()
    sent = await driving
    assert events == ["started", "finished"]
    assert sent[0]["status"] == 200 and sent[1]["body"] == b'{"done":"yes"}'
