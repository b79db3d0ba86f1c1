"""Ids from callers, parsed before any service is called.

Every id in the schema (`ID` arguments and `ID` fields of inputs) names an idea, comment,
reflection or document, and all of those are UUIDs. A value that is not a UUID is refused here,
with no call to any service: mutations answer `ValidationError` with code `invalid_id`, queries
and subscriptions a GraphQL error with `extensions.code` `BAD_USER_INPUT`. Paths are then built
from the parsed UUIDs with `kit.http.url_path`, so caller text never reaches a URL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import NoReturn

from graphql import GraphQLError

from gateway.schema.errors import FieldError, ValidationError
from kit.http import url_path

INVALID_ID = "invalid_id"


class InvalidId(Exception):
    """An id that is not a UUID; `field` names the argument or input field (dotted path)."""

    def __init__(self, field: str) -> None:
        super().__init__(f"`{field}` is not a valid id: ids are UUIDs")
        self.field = field

    def as_result(self) -> ValidationError:
        """The mutation result: a ValidationError naming the field (the value is not echoed)."""
        return ValidationError(
            code=INVALID_ID,
            message=str(self),
            fields=[FieldError(field=self.field, message="not a UUID")],
        )

    def raise_for_query(self) -> NoReturn:
        """Never returns: queries and subscriptions have no union, so this raises GraphQLError
        `BAD_USER_INPUT` naming the argument in `extensions.argument`."""
        raise GraphQLError(
            str(self), extensions={"code": "BAD_USER_INPUT", "argument": self.field}
        ) from self


def parse_id(value: object, field: str = "id") -> uuid.UUID:
    """The UUID `value` stands for (any form `uuid.UUID` reads: hyphens optional, braces,
    `urn:uuid:`). Raises InvalidId naming `field` for anything else, including non-strings."""
    if not isinstance(value, str):
        raise InvalidId(field)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidId(field) from None


def parse_ids(values: Iterable[object], field: str) -> list[str]:
    """Each value parsed as in `parse_id`, returned in canonical text form for a JSON body.
    Raises InvalidId naming the first bad one as `field[index]`."""
    return [str(parse_id(value, f"{field}[{index}]")) for index, value in enumerate(values)]


def id_path(template: str, **ids: object) -> str:
    """`template` with each `{name}` filled by the UUID the caller's value stands for, e.g.
    `id_path("/v1/ideas/{id}/support", id=value)`. Raises InvalidId naming the argument."""
    return url_path(template, **{name: parse_id(value, name) for name, value in ids.items()})
