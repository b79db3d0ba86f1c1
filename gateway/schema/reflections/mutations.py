"""Reflection mutations in GraphQL: start, answer, finish, share, delete and turn an action
into an idea, each calling the reflection service as the caller (types in types.py)."""

from __future__ import annotations

from functools import partial
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
from gateway.security import signed_in_mutation
from gateway.upstream import change, change_one

# Every reflection mutation but starting one changes one reflection.
_on_reflection = partial(
    change_one, service="reflection", collection="/v1/reflections", present=reflection_from
)


@strawberry.type
class ReflectionsMutation:
    """The reflection mutations; each answers its result union."""

    @signed_in_mutation("Start a reflection; it answers with the first stage's question.")
    async def start_reflection(
        self, info: Info[Context, None], input: StartReflectionInput
    ) -> ReflectionResult:
        """The new reflection with its first question (the guide's longer time limit).
        Expected failures are the union's error members (gateway.upstream.change), never
        raised."""
        body = {k: v for k, v in vars(input).items() if v is not None}
        return await change(
            info, "reflection", "POST", "/v1/reflections", reflection_from, json=body, slow=True
        )

    @signed_in_mutation("Answer the current stage; it answers with the next question.")
    async def answer_reflection(
        self, info: Info[Context, None], id: strawberry.ID, stage: str, answer: str
    ) -> ReflectionResult:
        """The reflection with the answer and the next question. Expected failures are the
        union's error members (gateway.upstream.change), never raised."""
        body = {"stage": stage, "answer": answer}
        return await _on_reflection(info, "POST", "/answers", id, json=body, slow=True)

    @signed_in_mutation("Finish: summary, learning points and actions.")
    async def finish_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionResult:
        """The finished reflection with its summary. Expected failures are the union's error
        members (gateway.upstream.change), never raised."""
        return await _on_reflection(info, "POST", "/finish", id, slow=True)

    @signed_in_mutation("Share with your teams (all of them when `teams` is left out).")
    async def share_reflection(
        self, info: Info[Context, None], id: strawberry.ID, teams: list[str] | None = None
    ) -> ReflectionResult:
        """The reflection shared with `teams` (all the caller's teams when None). Expected
        failures are the union's error members (gateway.upstream.change), never raised."""
        body = {"teams": teams} if teams is not None else {}
        return await _on_reflection(info, "PUT", "/share", id, json=body)

    @signed_in_mutation("Make a reflection private again.")
    async def unshare_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionResult:
        """The reflection, private again. Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        return await _on_reflection(info, "DELETE", "/share", id)

    @signed_in_mutation(
        "Turn an action of a finished reflection into an idea draft, linked both ways."
    )
    async def idea_from_reflection(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        action: int,
        team: str | None = None,
        title: str | None = None,
    ) -> IdeaDraftedResult:
        """IdeaDrafted: the idea draft made from action `action` (existing when it was
        drafted before). Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        body: dict[str, Any] = {"action": action}
        if team is not None:
            body["team"] = team
        if title is not None:
            body["title"] = title
        return await _on_reflection(info, "POST", "/ideas", id, present=drafted_from, json=body)

    @signed_in_mutation("Delete your reflection for good.")
    async def delete_reflection(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ReflectionDeletedResult:
        """ReflectionDeleted with the id, once the service deleted it. Expected failures are
        the union's error members (gateway.upstream.change), never raised."""
        return await _on_reflection(
            info, "DELETE", "", id, present=lambda _: ReflectionDeleted(id=id)
        )
