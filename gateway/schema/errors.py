"""Expected failures as data: mutations return a union of their result and these types, so a
client handles them with a type switch instead of parsing error strings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

if TYPE_CHECKING:  # gateway/upstream.py calls these mappings
    from gateway.upstream import UpstreamReply, UpstreamUnavailable


@strawberry.interface(description="An expected failure the user can act on.")
class UserError:
    """The interface of every expected failure: a stable `code` and a `message`."""

    code: str = strawberry.field(description="Stable machine-readable code, e.g. `unknown_team`.")
    message: str = strawberry.field(description="A human-readable explanation.")


@strawberry.type(description="One invalid input field.")
class FieldError:
    """One refused input field: its dotted path and what is wrong."""

    field: str = strawberry.field(description="Dotted path of the field, e.g. `input.title`.")
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="The input was refused; nothing was changed.")
class ValidationError(UserError):
    """The input was refused (REST 400/422 and other 4xx); `fields` and `details` as the service
    gave them."""

    fields: list[FieldError] = strawberry.field(description="Which fields were wrong, when known.")
    details: JSON | None = strawberry.field(
        default=None,
        description="What the service added, as `error.details` in REST: e.g. for "
        "`idempotency_key_reused` the `id` of what the key made first.",
    )


@strawberry.type(description="The object does not exist or is not visible to you.")
class NotFoundError(UserError):
    """The object does not exist or is not visible to the caller (REST 404); only `code` and
    `message`."""


@strawberry.type(description="You may not do this (missing role or not your object).")
class ForbiddenError(UserError):
    """The caller may not do this (REST 403); only `code` and `message`."""


@strawberry.type(
    description="The object's state does not allow this now, or someone else changed it first "
    "(`transition_conflict`): the current state is given so the client can show it."
)
class ConflictError(UserError):
    """The object's state does not allow this now (REST 409), with the stored version and status
    when known."""

    current_version: int | None = strawberry.field(
        default=None, description="The version now stored, when the object has versions."
    )
    current_status: str | None = strawberry.field(
        default=None, description="The workflow status now stored, when the object has one."
    )
    details: JSON | None = strawberry.field(
        default=None,
        description="What the service said about the conflict, e.g. the remaining stages of "
        "a reflection; the same object as `error.details` in REST.",
    )


@strawberry.type(description="Someone changed the object since you read it; reload and retry.")
class StaleVersionError(UserError):
    """The version the caller read is no longer stored (REST 412, or 428 when none was sent)."""

    current_version: int | None = strawberry.field(description="The version now stored.")


@strawberry.type(description="A service behind the gateway could not be reached; try again.")
class ServiceUnavailableError(UserError):
    """A service could not be reached, failed (5xx) or its breaker is open; names the service."""

    service: str = strawberry.field(description="Which service: ideas, reflection or analytics.")


# The members a change's result union adds to its result, in the order the schema lists them:
# every expected failure for an object with versions (an idea), and all but StaleVersionError
# for one without (a comment, a reflection).
ExpectedError = (
    ValidationError
    | NotFoundError
    | ForbiddenError
    | ConflictError
    | StaleVersionError
    | ServiceUnavailableError
)
UnversionedError = (
    ValidationError | NotFoundError | ForbiddenError | ConflictError | ServiceUnavailableError
)


def _fields(details: Any) -> list[FieldError]:
    if not isinstance(details, list):
        return []
    found = []
    for item in details:
        if isinstance(item, dict) and "location" in item:
            path = [str(p) for p in item["location"] if p not in ("body", "query", "path")]
            found.append(FieldError(field=".".join(path), message=str(item.get("message"))))
    return found


def from_reply(reply: UpstreamReply) -> Any:
    """The union member for a service's refusal (`reply`, 4xx): NotFoundError (404),
    ForbiddenError (403), ConflictError (409), StaleVersionError (412, 428), else
    ValidationError, with the code, message and details of the REST error body. Raises
    GraphQLError `UNAUTHENTICATED` for 401: the token itself was refused."""
    error = (reply.body or {}).get("error", {}) if isinstance(reply.body, dict) else {}
    code = str(error.get("code", "error"))
    message = str(error.get("message", "the request failed"))
    details = error.get("details")
    if reply.status == 404:
        return NotFoundError(code=code, message=message)
    if reply.status == 403:
        return ForbiddenError(code=code, message=message)
    if reply.status == 409:
        state = details if isinstance(details, dict) else {}
        version, status = state.get("current_version"), state.get("current_status")
        return ConflictError(
            code=code,
            message=message,
            current_version=version if isinstance(version, int) else None,
            current_status=str(status) if status is not None else None,
            details=details,
        )
    if reply.status in (412, 428):
        current = details.get("current_version") if isinstance(details, dict) else None
        return StaleVersionError(code=code, message=message, current_version=current)
    if reply.status == 401:
        raise GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})
    extra: Any = details if isinstance(details, dict) else None  # a list is `fields` above
    return ValidationError(code=code, message=message, fields=_fields(details), details=extra)


def unavailable(exc: UpstreamUnavailable) -> ServiceUnavailableError:
    """The ServiceUnavailableError result for `exc` (code `service_unavailable`)."""
    return ServiceUnavailableError(
        code="service_unavailable", message=str(exc), service=exc.service
    )


def raise_for_query(reply: UpstreamReply) -> None:
    """Returns None for a 2xx `reply`. Queries have no union, so raises GraphQLError for any
    other, with the service's error code in capitals (e.g. `ROLE_REQUIRED`) and its message."""
    if reply.ok:
        return
    error = (reply.body or {}).get("error", {}) if isinstance(reply.body, dict) else {}
    raise GraphQLError(
        str(error.get("message", "the request failed")),
        extensions={"code": str(error.get("code", "error")).upper()},
    )


def raise_unavailable(exc: UpstreamUnavailable) -> NoReturn:
    """Never returns: raises GraphQLError SERVICE_UNAVAILABLE naming the service of `exc`, for
    queries and subscriptions."""
    raise GraphQLError(
        str(exc), extensions={"code": "SERVICE_UNAVAILABLE", "service": exc.service}
    ) from exc
