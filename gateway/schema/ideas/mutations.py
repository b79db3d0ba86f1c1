"""GraphQL mutations on ideas: capture, edits, the review workflow, support and discussion,
each calling the ideas service as the caller (types in gateway/schema/ideas/types.py)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from gateway.schema.context import Context
from gateway.schema.errors import (
    FieldError,
    ValidationError,
)
from gateway.schema.ideas.types import (
    CommentResult,
    IdeaResult,
    SubmitIdeaInput,
    UpdateIdeaInput,
    comment_from,
)
from gateway.schema.idempotency import (
    IDEMPOTENCY_KEY_HELP,
    bad_idempotency_key,
    idempotency_headers,
)
from gateway.schema.ids import InvalidId, parse_id, parse_ids
from gateway.schema.shared import IdeaStatus, idea_from
from gateway.security import signed_in_mutation
from gateway.upstream import change, change_one


def _input_dict(value: Any, path: str = "input") -> dict[str, Any]:
    """Strawberry input → JSON body, leaving out what the caller did not give. Id lists
    (`…_ids`) are parsed as UUIDs; raises InvalidId naming the field, e.g.
    `input.documentIds[0]`."""
    out: dict[str, Any] = {}
    for key, item in vars(value).items():
        if item is None:
            continue
        name = f"{path}.{to_camel_case(key)}"
        if hasattr(item, "__strawberry_definition__"):
            item = _input_dict(item, name)
        elif key.endswith("_ids"):
            item = parse_ids(item, name)
        elif isinstance(item, list):
            item = [str(i) for i in item]
        out[key] = item
    return out


# Every idea mutation but commenting changes one idea and answers it.
_on_idea = partial(change_one, service="ideas", collection="/v1/ideas", present=idea_from)


@strawberry.type
class IdeasMutation:
    """The idea mutations; each answers an IdeaResult or CommentResult union."""

    @signed_in_mutation("Capture an idea and submit it (or keep it as a draft).")
    async def submit_idea(
        self,
        info: Info[Context, None],
        input: SubmitIdeaInput,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=IDEMPOTENCY_KEY_HELP)
        ] = None,
    ) -> IdeaResult:
        """The new idea (submitted, or a draft), or ValidationError for a malformed id or
        idempotency key (no call made). Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        try:
            body = _input_dict(input)
        except InvalidId as exc:
            return exc.as_result()
        body["submit"] = not body.pop("draft", False)
        refused = bad_idempotency_key(idempotency_key)
        if refused is not None:
            return refused
        return await change(
            info,
            "ideas",
            "POST",
            "/v1/ideas",
            idea_from,
            json=body,
            headers=idempotency_headers(idempotency_key),
        )

    @signed_in_mutation("Change an idea you read at `expectedVersion`.")
    async def update_idea(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        expected_version: int,
        input: UpdateIdeaInput,
    ) -> IdeaResult:
        """The changed idea, or StaleVersionError/ConflictError when it changed since
        `expectedVersion`. Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        try:
            body = _input_dict(input)
        except InvalidId as exc:
            return exc.as_result()
        headers = {"If-Match": f'"{expected_version}"'}
        return await _on_idea(info, "PATCH", "", id, json=body, headers=headers)

    @signed_in_mutation("Move an idea through the workflow.")
    async def transition_idea(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        to: IdeaStatus,
        reason: str | None = None,
        expected_version: Annotated[
            int | None,
            strawberry.argument(
                description="The `version` of the idea you decided on. Required in effect: "
                "without it the result is ValidationError `expected_version_required`; when "
                "the idea changed since, ConflictError `transition_conflict`."
            ),
        ] = None,
    ) -> IdeaResult:
        """The idea in its new status; ValidationError `expected_version_required` without
        `expectedVersion` (no call made), ConflictError `transition_conflict` when it
        changed since (docs/ideas.md). Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        try:
            parse_id(id)  # a malformed id is named first, whatever else is missing
        except InvalidId as exc:
            return exc.as_result()
        if expected_version is None:
            # Optional in the schema (adding it is not breaking), required by the service:
            # a decision must name the state it was made on (docs/ideas.md).
            return ValidationError(
                code="expected_version_required",
                message="pass expectedVersion: the version of the idea you decided on",
                fields=[FieldError(field="expectedVersion", message="required")],
            )
        body: dict[str, Any] = {"to": to.value}
        if reason is not None:
            body["reason"] = reason
        headers = {"If-Match": f'"{expected_version}"'}
        return await _on_idea(info, "POST", "/transitions", id, json=body, headers=headers)

    @signed_in_mutation("Support an idea (idempotent).")
    async def support_idea(self, info: Info[Context, None], id: strawberry.ID) -> IdeaResult:
        """The idea with the caller's support (idempotent). Expected failures are the
        union's error members (gateway.upstream.change), never raised."""
        return await _on_idea(info, "PUT", "/support", id)

    @signed_in_mutation("Take your support back (idempotent).")
    async def unsupport_idea(self, info: Info[Context, None], id: strawberry.ID) -> IdeaResult:
        """The idea without the caller's support (idempotent). Expected failures are the
        union's error members (gateway.upstream.change), never raised."""
        return await _on_idea(info, "DELETE", "/support", id)

    @signed_in_mutation("Comment on an idea, or reply to a comment.")
    async def comment_on_idea(
        self,
        info: Info[Context, None],
        idea_id: strawberry.ID,
        body: str,
        parent_id: strawberry.ID | None = None,
        idempotency_key: Annotated[
            str | None, strawberry.argument(description=IDEMPOTENCY_KEY_HELP)
        ] = None,
    ) -> CommentResult:
        """The new comment, or ValidationError for a malformed key or id (ideaId named
        first; no call made). Expected failures are the union's error members
        (gateway.upstream.change), never raised."""
        payload: dict[str, Any] = {"body": body}
        refused = bad_idempotency_key(idempotency_key)
        if refused is not None:
            return refused
        try:
            parse_id(idea_id, "ideaId")  # named first when both ids are malformed
            if parent_id is not None:
                payload["parent_id"] = str(parse_id(parent_id, "parentId"))
        except InvalidId as exc:
            return exc.as_result()
        return await change(
            info,
            "ideas",
            "POST",
            "/v1/ideas/{ideaId}/comments",
            comment_from,
            ids={"ideaId": idea_id},
            json=payload,
            headers=idempotency_headers(idempotency_key),
        )
