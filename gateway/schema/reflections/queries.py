"""Guided reflection, the private journal and knowledge gaps in GraphQL, reading: one
reflection, a page of yours (or shared with your teams), the reflection models, knowledge gaps.

Streaming (tokens as the language model writes them) is the reflection service's REST
endpoint with `Accept: text/event-stream`, or the subscriptions in subscriptions.py; queries and
mutations answer once the question is complete.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.connections import check_first
from gateway.schema.context import Context
from gateway.schema.reflections.types import (
    KnowledgeGaps,
    ReflectionConnection,
    ReflectionModel,
    ReflectionScope,
    gaps_from,
    models_from,
    reflection_page_from,
)
from gateway.schema.shared import Reflection, reflection_from
from gateway.security import signed_in_field
from gateway.upstream import read, read_or_none


@strawberry.type
class ReflectionsQuery:
    """The reflection fields: reflection, myReflections, reflectionModels, knowledgeGaps."""

    @signed_in_field("One reflection: yours, or one shared with your team; null otherwise.")
    async def reflection(self, info: Info[Context, None], id: strawberry.ID) -> Reflection | None:
        """The reflection (the caller's, or shared with their team), or None when the
        service answers 404. Raises GraphQLError (gateway.upstream.read): BAD_USER_INPUT,
        SERVICE_UNAVAILABLE, or the service's code in capitals."""
        return await read_or_none(
            info, "reflection", "/v1/reflections/{id}", reflection_from, ids={"id": id}
        )

    @signed_in_field("Your reflections (or, with scope SHARED, those shared with your teams).")
    async def my_reflections(
        self,
        info: Info[Context, None],
        first: int = 20,
        after: str | None = None,
        scope: ReflectionScope = ReflectionScope.MINE,
    ) -> ReflectionConnection:
        """A page of the caller's reflections, or of those shared with their teams (1-100,
        after `after`). Raises GraphQLError BAD_USER_INPUT for `first` out of range; Raises
        GraphQLError (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the
        service's code in capitals."""
        check_first(first)
        params: dict[str, Any] = {"limit": first, "scope": scope.value}
        if after:
            params["cursor"] = after
        return await read(
            info, "reflection", "/v1/reflections", reflection_page_from, params=params
        )

    @strawberry.field(description="Reflection models to choose from.")
    async def reflection_models(self, info: Info[Context, None]) -> list[ReflectionModel]:
        """The reflection models to choose from. Raises GraphQLError UNAUTHENTICATED without
        a token; Raises GraphQLError (gateway.upstream.read): BAD_USER_INPUT,
        SERVICE_UNAVAILABLE, or the service's code in capitals."""
        if info.context.principal is None:
            raise GraphQLError("sign in first", extensions={"code": "UNAUTHENTICATED"})
        return await read(info, "reflection", "/v1/reflection-models", models_from)

    @signed_in_field("Questions the documents could not answer (admins, analysts, owners).")
    async def knowledge_gaps(
        self, info: Info[Context, None], process: str | None = None
    ) -> KnowledgeGaps:
        """Knowledge gaps, optionally of one process (admins, analysts, owners; others get
        the service's refusal). Raises GraphQLError (gateway.upstream.read): BAD_USER_INPUT,
        SERVICE_UNAVAILABLE, or the service's code in capitals."""
        params = {"process": process} if process else None
        return await read(info, "reflection", "/v1/knowledge-gaps", gaps_from, params=params)
