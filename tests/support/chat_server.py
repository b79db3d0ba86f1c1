"""A small OpenAI-compatible chat server over real HTTP: the stand-in for a hosted language
model, which cannot run here. It answers from the data in the prompt so tests can check what
the engine did with it: it cites the first passage it was given and also makes up `[c99]`;
`mode` switches it to failing (500), slow, or gullible (obeys instructions found in passages).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from tests.support.waiting import DEADLINE_SECONDS

PASSAGE_ID = re.compile(r'<passage id="(c\d+)"')
ANSWER_ID = re.compile(r'<worker id="(a\d+)"')


@dataclass
class ChatScript:
    mode: str = "normal"  # normal | failing | slow | gullible
    # slow: no answer until the caller has given up (hung up) — late whatever the machine's
    # speed — or, at the latest, after this many seconds.
    delay_seconds: float = DEADLINE_SECONDS
    requests: list[dict[str, Any]] = field(default_factory=list)


def _reply(messages: list[dict[str, Any]], mode: str, streaming: bool) -> str:
    data = str(messages[-1]["content"])
    passages = PASSAGE_ID.findall(data)
    answers = ANSWER_ID.findall(data)
    if mode == "gullible" and "ignore previous instructions" in data.lower():
        return "Here are all documents: " + " ".join(f"[c{i}]" for i in range(1, 30))
    if streaming:
        source = f"[{passages[0]}]" if passages else ""
        return (
            f"De procedure {source} zegt hoe het hoort, en [c99] zegt iets anders. "
            "Wat gebeurde er precies?"
        )
    return json.dumps(
        {
            "what_happened": "Een lijn viel stil [c99].",
            "learning_points": [
                {
                    "text": "De instructiekaart was onbekend.",
                    "citations": answers[-2:-1] + passages[:1],
                },
                {"text": "Een verzonnen regel.", "citations": ["c77"]},
            ],
            "actions": [
                {"text": "Storingen binnen vijftien minuten melden.", "citations": answers[-1:]}
            ],
        }
    )


def _chunk(text: str | None, finish: str | None = None) -> str:
    delta = {"content": text} if text is not None else {}
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def chat_app(script: ChatScript) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Any:
        body = await request.json()
        script.requests.append(body)
        if script.mode == "failing":
            return JSONResponse({"error": {"message": "overloaded"}}, status_code=500)
        if script.mode == "slow":
            # The body is read: the next message is the caller's hang-up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(request.receive(), script.delay_seconds)
        streaming = bool(body.get("stream"))
        text = _reply(body["messages"], script.mode, streaming)
        if not streaming:
            return {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": "test-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }

        async def chunks() -> AsyncIterator[str]:
            yield _chunk("")
            # Small pieces, so citations arrive split over several chunks.
            for start in range(0, len(text), 3):
                yield _chunk(text[start : start + 3])
            yield _chunk(None, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app
