"""Subscriptions over WebSocket (graphql-transport-ws, the protocol of `graphql-ws`).

- `ideaChanged(id)`: the idea each time it changes (status, support, content). The gateway
  polls the ideas service (`GATEWAY_SUBSCRIPTION_POLL_SECONDS`) so it needs no broker and any
  replica can serve any subscriber; the first event is the idea as it is now.
- `startReflectionStream(input)` / `answerReflectionStream(id, stage, answer)`: the question as
  the guide writes it — the reflection service's server-sent events, passed on as events.

Authenticate with `Authorization` in the `connection_init` payload (browsers cannot set headers
on a WebSocket) or on the handshake.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.clients import UpstreamUnavailable
from gateway.schema.context import Context
from gateway.schema.ids import INVALID_ID, InvalidId, id_path
from gateway.schema.reflections import StartReflectionInput
from gateway.schema.shared import (
    Citation,
    Idea,
    Reflection,
    citation_from,
    idea_from,
    reflection_from,
)
from gateway.schema.upstream import ask, stream
from gateway.security import subscriber


@strawberry.type(description="A piece of the question as the guide writes it.")
class ReflectionToken:
    text: str = strawberry.field(description="Append to what came before.")


@strawberry.type(description="Discard the text so far: the built-in guide takes over.")
class ReflectionRestart:
    notice: str = strawberry.field(description="Why (the language model failed or was slow).")


@strawberry.type(description="The sources the coming question cites.")
class ReflectionSources:
    citations: list[Citation] = strawberry.field(description="c1, c2 …")


@strawberry.type(description="The reflection service refused or failed; nothing was saved.")
class ReflectionStreamError:
    code: str = strawberry.field(description="The error code.")
    message: str = strawberry.field(description="What went wrong.")


ReflectionStreamEvent = Annotated[
    ReflectionSources | ReflectionToken | ReflectionRestart | Reflection | ReflectionStreamError,
    strawberry.union(
        "ReflectionStreamEvent",
        description="Sources, then tokens (maybe a restart), then the saved reflection.",
    ),
]


def _event(name: str, data: Any) -> Any:
    if name == "passages":
        return ReflectionSources(citations=[citation_from(c) for c in data])
    if name == "token":
        return ReflectionToken(text=data["text"])
    if name == "restart":
        return ReflectionRestart(notice=data["notice"])
    if name == "reflection":
        return reflection_from(data)
    error = data.get("error", {}) if isinstance(data, dict) else {}
    return ReflectionStreamError(
        code=str(error.get("code", "error")), message=str(error.get("message", "failed"))
    )


async def _relay_stream(
    info: Info[Context, None], path: str, body: dict[str, Any]
) -> AsyncGenerator[Any, None]:
    await subscriber(info)
    try:
        async with stream(info, "reflection", path, json=body) as response:
            if response.status_code != 200:  # refused before streaming: an ordinary error body
                data = json.loads(await response.aread())
                yield _event("error", data)
                return
            name = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name:
                    yield _event(name, json.loads(line[6:]))
                    name = None
    except UpstreamUnavailable as exc:
        raise GraphQLError(
            "the reflection service is unavailable",
            extensions={"code": "SERVICE_UNAVAILABLE", "service": "reflection"},
        ) from exc


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The idea now, then each time it changes.")
    async def idea_changed(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[Idea, None]:
        await subscriber(info)
        try:
            path = id_path("/v1/ideas/{id}", id=id)
        except InvalidId as exc:
            exc.raise_for_query()
        upstreams = info.context.upstreams
        seen: tuple[int, int, int] | None = None
        while True:
            try:
                reply = await ask(info, "ideas", "GET", path)
            except UpstreamUnavailable:
                await asyncio.sleep(upstreams.subscription_poll_seconds)
                continue
            if not reply.ok:
                raise GraphQLError(
                    "no such idea, or not visible to you", extensions={"code": "NOT_FOUND"}
                )
            body = reply.body
            state = (body["version"], body["support_count"], body["comment_count"])
            if state != seen:
                seen = state
                yield idea_from(body)
            await asyncio.sleep(upstreams.subscription_poll_seconds)

    @strawberry.subscription(description="Start a reflection; the first question streams in.")
    async def start_reflection_stream(
        self, info: Info[Context, None], input: StartReflectionInput
    ) -> AsyncGenerator[ReflectionStreamEvent, None]:
        body = {k: v for k, v in vars(input).items() if v is not None}
        async for event in _relay_stream(info, "/v1/reflections", body):
            yield event

    @strawberry.subscription(description="Answer a stage; the next question streams in.")
    async def answer_reflection_stream(
        self, info: Info[Context, None], id: strawberry.ID, stage: str, answer: str
    ) -> AsyncGenerator[ReflectionStreamEvent, None]:
        body = {"stage": stage, "answer": answer}
        await subscriber(info)  # who asks is checked before what they sent
        try:
            path = id_path("/v1/reflections/{id}/answers", id=id)
        except InvalidId as exc:
            yield ReflectionStreamError(code=INVALID_ID, message=str(exc))
            return
        async for event in _relay_stream(info, path, body):
            yield event
