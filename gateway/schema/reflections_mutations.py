"""Reflection mutations in GraphQL: start, answer, finish, share, delete and turn an action
into an idea, each calling the reflection service as the caller (types in reflections.py)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.clients import UpstreamUnavailable
from gateway.schema.context import Context
from gateway.schema.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    from_reply,
    unavailable,
)
from gateway.schema.ids import InvalidId
from gateway.schema.reflections import (
    IdeaDrafted,
    Reflection,
    ReflectionDeleted,
    StartReflectionInput,
    reflection_from,
)
from gateway.schema.upstream import ask
from gateway.security import IsAuthenticated

MAX_PAGE = 100


_Errors = ValidationError | NotFoundError | ForbiddenError | ConflictError | ServiceUnavailableError
ReflectionResult = Annotated[
    Reflection | _Errors,
    strawberry.union("ReflectionResult", description="The reflection, or why it was refused."),
]
IdeaDraftedResult = Annotated[
    IdeaDrafted | _Errors,
    strawberry.union("IdeaDraftedResult", description="The draft, or why it was refused."),
]
ReflectionDeletedResult = Annotated[
    ReflectionDeleted | _Errors,
    strawberry.union("ReflectionDeletedResult", description="Deleted, or why not."),
]


async def _reflection_call(
    info: Info[Context, None], method: str, path: str, *, slow: bool = False, **kwargs: Any
) -> Any:
    """`path` is a template when `ids` are given (see upstream.ask): a malformed id answers
    ValidationError `invalid_id` and nothing is called."""
    try:
        reply = await ask(info, "reflection", method, path, slow=slow, **kwargs)
    except InvalidId as exc:
        return exc.as_result()
    except UpstreamUnavailable as exc:
        return unavailable(exc)
    return reflection_from(reply.body) if reply.ok else from_reply(reply)


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
        return await _reflection_call(info, "POST", "/v1/reflections", json=body, slow=True)

    @strawberry.mutation(
        description="Answer the current stage; it answers with the next question.",
        permission_classes=[IsAuthenticated],
    )
    async def answer_reflection(
        self, info: Info[Context, None], id: strawberry.ID, stage: str, answer: str
    ) -> ReflectionResult:
        return await _reflection_call(
            info,
            "POST",
            "/v1/reflections/{id}/answers",
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
        return await _reflection_call(
            info, "POST", "/v1/reflections/{id}/finish", ids={"id": id}, slow=True
        )

    @strawberry.mutation(
        description="Share with your teams (all of them when `teams` is left out).",
        permission_classes=[IsAuthenticated],
    )
    async def share_reflection(
        self, info: Info[Context, None], id: strawberry.ID, teams: list[str] | None = None
    ) -> ReflectionResult:
        body = {"teams": teams} if teams is not None else {}
        return await _reflection_call(
            info, "PUT", "/v1/reflections/{id}/share", ids={"id": id}, json=body
        )

    @strawberry.mutation(
        description="Make a reflection private again.", permission_classes=[IsAuthenticated]
    )
    async def unshare_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionResult:
        return await _reflection_call(info, "DELETE", "/v1/reflections/{id}/share", ids={"id": id})

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
        try:
            reply = await ask(
                info, "reflection", "POST", "/v1/reflections/{id}/ideas", ids={"id": id}, json=body
            )
        except InvalidId as exc:
            return exc.as_result()
        except UpstreamUnavailable as exc:
            return unavailable(exc)
        if not reply.ok:
            return from_reply(reply)
        return IdeaDrafted(
            idea_id=strawberry.ID(reply.body["idea_id"]),
            created=reply.body["created"],
            reflection=reflection_from(reply.body["reflection"]),
        )

    @strawberry.mutation(
        description="Delete your reflection for good.", permission_classes=[IsAuthenticated]
    )
    async def delete_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionDeletedResult:
        try:
            reply = await ask(info, "reflection", "DELETE", "/v1/reflections/{id}", ids={"id": id})
        except InvalidId as exc:
            return exc.as_result()
        except UpstreamUnavailable as exc:
            return unavailable(exc)
        return ReflectionDeleted(id=id) if reply.ok else from_reply(reply)
