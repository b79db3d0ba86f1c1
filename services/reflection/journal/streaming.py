"""Server-sent events for a question being asked: sources first, then the text as the engine
makes it, then the saved reflection — or an error event with the usual error body.

Events: `passages` (the cited sources), `token` ({"text"}), `restart` ({"notice"}: discard the
text so far, the built-in guide takes over), `reflection` (the saved state), `error`.
If the client goes away before the end, the work is cancelled and nothing is saved.

The stream is sent after the route has returned, when the request's sessions are closed: the
work runs in a read-only session and a unit of work of its own (kit.db.unit_of_work), the same
two roles the route's ReadSessionDep and SessionDep play for a JSON answer. The saved state is
sent only once its transaction has committed.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import Database, ReadSessionDep, SessionDep, unit_of_work
from kit.errors import AppError, error_body
from kit.logging import current_request_id
from services.reflection.guide.base import Passage, TokenSink
from services.reflection.journal.models import ReflectionPublic
from services.reflection.journal.records import passage_record

log = logging.getLogger(__name__)
Item = tuple[str, Any] | None
# The work of a streamable request: (reads, session, sink or None) → the saved reflection.
Work = Callable[[AsyncSession, AsyncSession, TokenSink | None], Awaitable[ReflectionPublic]]


class QueueSink:
    """A TokenSink (guide/base.py) that queues each piece as a named event for the stream."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue()

    async def passages(self, passages: list[Passage]) -> None:
        """Queue the `passages` event: the sources, as stored (records.passage_record)."""
        await self.queue.put(("passages", [passage_record(p) for p in passages]))

    async def token(self, text: str) -> None:
        """Queue a `token` event: `{"text"}`, the next piece of the question."""
        await self.queue.put(("token", {"text": text}))

    async def restart(self, notice: str) -> None:
        """Queue a `restart` event: `{"notice"}`; the text so far is void."""
        await self.queue.put(("restart", {"notice": notice}))


def wants_stream(accept: str | None) -> bool:
    """True when the `Accept` header asks for server-sent events (`text/event-stream`)."""
    return "text/event-stream" in (accept or "")


def event_stream(database: Database, work: Work) -> StreamingResponse:
    """A `text/event-stream` response running `work` with its own read-only session and unit of
    work, sending what the sink receives as it comes, then `reflection` (the committed state) or
    `error` (the usual error body; an unexpected failure is logged and names the request id)."""
    sink = QueueSink()

    async def run() -> None:
        try:
            async with database.reading() as reads, unit_of_work(database) as session:
                result = await work(reads, session, sink)
            await sink.queue.put(("reflection", result.model_dump(mode="json")))
        except AppError as exc:
            await sink.queue.put(("error", error_body(exc.code, exc.message, exc.details)))
        except Exception:
            log.exception("streamed request failed")
            body = error_body(
                "internal_error",
                "an unexpected error occurred",
                {"request_id": current_request_id()},
            )
            await sink.queue.put(("error", body))
        finally:
            await sink.queue.put(None)

    async def events() -> AsyncIterator[str]:
        task = asyncio.create_task(run())
        try:
            while (item := await sink.queue.get()) is not None:
                name, data = item
                yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        finally:
            if not task.done():
                task.cancel()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@dataclass(frozen=True)
class Streamable:
    """How a streamable route answers: with JSON, its work done in the request's sessions, or
    when the caller asked for `text/event-stream`, with a stream whose work has sessions of
    its own (the request's are closed by the time it runs)."""

    reads: AsyncSession
    session: AsyncSession
    database: Database
    stream: bool

    async def answer(self, work: Work) -> ReflectionPublic | Response:
        """`work`'s reflection as JSON, or an `event_stream` running it."""
        if self.stream:
            return event_stream(self.database, work)
        return await work(self.reads, self.session, None)


def _streamable(
    request: Request,
    reads: ReadSessionDep,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
) -> Streamable:
    return Streamable(reads, session, request.app.state.database, wants_stream(accept))


StreamableDep = Annotated[Streamable, Depends(_streamable)]
