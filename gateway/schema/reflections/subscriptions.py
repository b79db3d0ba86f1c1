"""Reflection subscriptions over WebSocket (graphql-transport-ws, the protocol of `graphql-ws`).

`startReflectionStream(input)` / `answerReflectionStream(id, stage, answer)`: the question as
the guide writes it — the reflection service's server-sent events, passed on as events.

Authenticate with `Authorization` in the `connection_init` payload (browsers cannot set headers
on a WebSocket) or on the handshake.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.ids import INVALID_ID, InvalidId, id_path
from gateway.schema.reflections.types import (
    ReflectionStreamError,
    ReflectionStreamEvent,
    StartReflectionInput,
    stream_event,
)
from gateway.security import subscriber
from gateway.upstream import UpstreamUnavailable, stream


async def _relay_stream(
    info: Info[Context, None], path: str, body: dict[str, Any]
) -> AsyncGenerator[Any, None]:
    await subscriber(info)
    try:
        async with stream(info, "reflection", path, json=body) as response:
            if response.status_code != 200:  # refused before streaming: an ordinary error body
                data = json.loads(await response.aread())
                yield stream_event("error", data)
                return
            name = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: ") and name:
                    yield stream_event(name, json.loads(line[6:]))
                    name = None
    except UpstreamUnavailable as exc:
        raise GraphQLError(
            "the reflection service is unavailable",
            extensions={"code": "SERVICE_UNAVAILABLE", "service": "reflection"},
        ) from exc


@strawberry.type
class ReflectionsSubscription:
    """The reflection streams."""

    @strawberry.subscription(description="Start a reflection; the first question streams in.")
    async def start_reflection_stream(
        self, info: Info[Context, None], input: StartReflectionInput
    ) -> AsyncGenerator[ReflectionStreamEvent, None]:
        """Yields the sources, the question's tokens (maybe a restart) and the saved
        reflection, or one ReflectionStreamError when the service refuses. Raises
        GraphQLError UNAUTHENTICATED without a valid token, SERVICE_UNAVAILABLE when the
        service cannot be reached or fails."""
        body = {k: v for k, v in vars(input).items() if v is not None}
        async for event in _relay_stream(info, "/v1/reflections", body):
            yield event

    @strawberry.subscription(description="Answer a stage; the next question streams in.")
    async def answer_reflection_stream(
        self, info: Info[Context, None], id: strawberry.ID, stage: str, answer: str
    ) -> AsyncGenerator[ReflectionStreamEvent, None]:
        """As startReflectionStream, for the answer to `stage`; a malformed id yields one
        ReflectionStreamError `invalid_id` (no call made)."""
        body = {"stage": stage, "answer": answer}
        await subscriber(info)  # who asks is checked before what they sent
        try:
            path = id_path("/v1/reflections/{id}/answers", id=id)
        except InvalidId as exc:
            yield ReflectionStreamError(code=INVALID_ID, message=str(exc))
            return
        async for event in _relay_stream(info, path, body):
            yield event
