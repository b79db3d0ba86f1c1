"""`ideaChanged(id)` over WebSocket (graphql-transport-ws, the protocol of `graphql-ws`): the idea
each time it changes (status, support, content). The gateway polls the ideas service
(`GATEWAY_SUBSCRIPTION_POLL_SECONDS`) so it needs no broker and any replica can serve any
subscriber; the first event is the idea as it is now.

Authenticate with `Authorization` in the `connection_init` payload (browsers cannot set headers
on a WebSocket) or on the handshake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.ids import InvalidId, id_path
from gateway.schema.shared import Idea, idea_from
from gateway.security import subscriber
from gateway.upstream import UpstreamUnavailable, ask


@strawberry.type
class IdeasSubscription:
    """The ideaChanged subscription."""

    @strawberry.subscription(description="The idea now, then each time it changes.")
    async def idea_changed(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[Idea, None]:
        """Yields the idea now, then again whenever its version, support or comment count
        changes (polled every `subscription_poll_seconds`; an unavailable service is asked
        again). Raises GraphQLError UNAUTHENTICATED without a valid token, BAD_USER_INPUT
        for a malformed id, NOT_FOUND when the service refuses."""
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
