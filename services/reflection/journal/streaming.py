"""Server-sent events for a question being asked: sources first, then the text as the engine
makes it, then the saved reflection — or an error event with the usual error body.

Events: `passages` (the cited sources), `token` ({"text"}), `restart` ({"notice"}: discard the
text so far, the built-in guide takes over), `reflection` (the saved state), `error`.
If the client goes away before the end, the work is cancelled and nothing is saved.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from kit.errors import AppError, error_body
from kit.logging import current_request_id
from services.reflection.guide.base import Passage
from services.reflection.journal.models import ReflectionPublic
from services.reflection.journal.records import passage_record

log = logging.getLogger(__name__)
Item = tuple[str, Any] | None


class QueueSink:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue()

    async def passages(self, passages: list[Passage]) -> None:
        await self.queue.put(("passages", [passage_record(p) for p in passages]))

    async def token(self, text: str) -> None:
        await self.queue.put(("token", {"text": text}))

    async def restart(self, notice: str) -> None:
        await self.queue.put(("restart", {"notice": notice}))


def wants_stream(accept: str | None) -> bool:
    return "text/event-stream" in (accept or "")


def event_stream(work: Callable[[QueueSink], Awaitable[ReflectionPublic]]) -> StreamingResponse:
    sink = QueueSink()

    async def run() -> None:
        try:
            result = await work(sink)
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
