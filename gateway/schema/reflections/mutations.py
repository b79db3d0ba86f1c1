"""Reflection mutations in GraphQL: start, answer, finish, share, delete and turn an action
into an idea, each calling the reflection service as the caller (types in types.py)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.reflections.types import (
    IdeaDraftedResult,
    ReflectionDeleted,
    ReflectionDeletedResult,
    ReflectionResult,
    StartReflectionInput,
    drafted_from,
)
from gateway.schema.shared import reflection_from
from gateway.schema.upstream import change
from gateway.security import IsAuthenticated


@strawberry.type
class ReflectionsMutation:
    @strawberry.mutation(
        description="Start a reflection; it answers with the first stage's question.",
        permission_classes=[IsAuthenticated],
    )
    async def start_reflection(
        self, info: Info[Context, None], input: StartReflectionInput
    ) -> ReflectionResult:
        body = {k: v for k, v in vars(input).items() if v is not None}
        return await change(
            info, "reflection", "POST", "/v1/reflections", reflection_from, json=body, slow=True
        )

    @strawberry.mutation(
        description="Answer the current stage; it answers with the next question.",
        permission_classes=[IsAuthenticated],
    )
    async def answer_reflection(
        self, info: Info[Context, None], id: strawberry.ID, stage: str, answer: str
    ) -> ReflectionResult:
        return await change(
            info,
            "reflection",
            "POST",
            "/v1/reflections/{id}/answers",
            reflection_from,
            ids={"id": id},
            json={"stage": stage, "answer": answer},
            slow=True,
        )

    @strawberry.mutation(
        description="Finish: summary, learning points and actions.",
        permission_classes=[IsAuthenticated],
    )
    async def finish_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionResult:
        return await change(
            info,
            "reflection",
            "POST",
            "/v1/reflections/{id}/finish",
            reflection_from,
            ids={"id": id},
            slow=True,
        )

    @strawberry.mutation(
        description="Share with your teams (all of them when `teams` is left out).",
        permission_classes=[IsAuthenticated],
    )
    async def share_reflection(
        self, info: Info[Context, None], id: strawberry.ID, teams: list[str] | None = None
    ) -> ReflectionResult:
        body = {"teams": teams} if teams is not None else {}
        return await change(
            info,
            "reflection",
            "PUT",
            "/v1/reflections/{id}/share",
            reflection_from,
            ids={"id": id},
            json=body,
        )

    @strawberry.mutation(
        description="Make a reflection private again.", permission_classes=[IsAuthenticated]
    )
    async def unshare_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionResult:
        return await change(
            info,
            "reflection",
            "DELETE",
            "/v1/reflections/{id}/share",
            reflection_from,
            ids={"id": id},
        )

    @strawberry.mutation(
        description="Turn an action of a finished reflection into an idea draft, linked both ways.",
        permission_classes=[IsAuthenticated],
    )
    async def idea_from_reflection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        action: int,
        team: str | None = None,
        title: str | None = None,
    ) -> IdeaDraftedResult:
        body: dict[str, Any] = {"action": action}
        if team is not None:
            body["team"] = team
        if title is not None:
            body["title"] = title
        return await change(
            info,
            "reflection",
            "POST",
            "/v1/reflections/{id}/ideas",
            drafted_from,
            ids={"id": id},
            json=body,
        )

    @strawberry.mutation(
        description="Delete your reflection for good.", permission_classes=[IsAuthenticated]
    )
    async def delete_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionDeletedResult:
        return await change(
            info,
            "reflection",
            "DELETE",
            "/v1/reflections/{id}",
            lambda _: ReflectionDeleted(id=id),
            ids={"id": id},
        )
