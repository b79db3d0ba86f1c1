"""The filters of `GET /xapi/statements` (xAPI 1.0.3, Communication 2.1.3), parsed to their types
and ranges before any use, and the `more` token that carries them to the next page.

Every refusal is 400 with the parameter named in `message` and in `details[].location`:
`invalid_text` for NUL or an unpaired surrogate, `invalid_json` for an agent that is not strict
JSON (`kit.jsonsafe.loads_strict`: NaN/Infinity, overlong integers, deep nesting),
`invalid_request` for anything else (a timestamp without a time zone or outside years 1 to 9999
in UTC, an agent that is not an xAPI Agent or Group, a verb or activity that is
not an absolute IRI).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from kit.cursors import KeysetCursor
from kit.errors import AppError
from kit.jsonsafe import UnsafeJSON, loads_strict
from kit.text import find_invalid_text, text_fault
from services.analytics.statements.models import Statement
from services.analytics.statements.validation import IRI_MAX, Invalid, agent, iri

MAX_PAGE = 100


class InvalidParameter(AppError):
    """400: a query parameter of an xAPI request is malformed or out of range."""

    status_code = 400
    code = "invalid_request"


def _text(value: Any, name: str) -> Any:
    if isinstance(value, str) and (reason := text_fault(value)):
        raise PydanticCustomError("invalid_text", f"{name} {reason}")
    return value


class Query(BaseModel):
    """GET /xapi/statements filters; `authority`/`reads_all` come from the caller's scope."""

    agent: dict[str, Any] | None = None
    verb: str | None = None
    activity: str | None = None
    registration: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=0, le=2**31 - 1)
    ascending: bool = False
    related_agents: bool = False
    related_activities: bool = False

    @field_validator("agent", mode="before")
    @classmethod
    def _agent(cls, value: Any) -> Any:
        if value is None:
            return None
        _text(value, "agent")
        if isinstance(value, str):
            try:
                value = loads_strict(value)
            except UnsafeJSON as exc:
                if exc.reason == "not_json":
                    raise PydanticCustomError("agent", "agent must be a JSON object") from None
                raise PydanticCustomError(
                    "invalid_json", f"agent is not acceptable JSON: {exc}"
                ) from None
        fault = find_invalid_text(value, "agent")
        if fault is not None:
            raise PydanticCustomError("invalid_text", str(fault))
        try:
            agent(value, "agent")
        except Invalid as exc:
            raise PydanticCustomError("agent", exc.message) from None
        return value

    @field_validator("verb", "activity", mode="before")
    @classmethod
    def _iri(cls, value: Any, info: Any) -> Any:
        if value is None:
            return None
        _text(value, info.field_name)
        try:
            iri(value, info.field_name)
        except Invalid as exc:
            raise PydanticCustomError(
                "iri", f"{exc.message} (at most {IRI_MAX} characters)"
            ) from None
        return value

    @field_validator("registration", mode="before")
    @classmethod
    def _registration(cls, value: Any) -> Any:
        return _text(value, "registration")

    @field_validator("since", "until", mode="before")
    @classmethod
    def _timestamp(cls, value: Any, info: Any) -> Any:
        if value is None or isinstance(value, datetime):
            parsed = value
        else:
            _text(value, info.field_name)
            try:
                parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                raise PydanticCustomError(
                    "timestamp", f"{info.field_name} must be an ISO 8601 timestamp"
                ) from None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            raise PydanticCustomError(
                "timestamp", f"{info.field_name} needs a time zone (e.g. Z or +01:00)"
            )
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise PydanticCustomError(
                "timestamp", f"{info.field_name} lies outside the years 1 to 9999 in UTC"
            ) from None


def parse_query(raw: dict[str, Any]) -> Query:
    """`raw` query parameters (by their xAPI names) as a `Query`; 400 naming the parameter."""
    try:
        return Query.model_validate(raw)
    except ValidationError as exc:
        raise _refusal(exc) from None


def _refusal(exc: ValidationError) -> InvalidParameter:
    errors = exc.errors()
    details = [
        {
            "location": ["query", *(str(p) for p in e.get("loc", ()))],
            "message": e.get("msg"),
            "type": e.get("type"),
        }
        for e in errors
    ]
    first = errors[0]
    name = str(first["loc"][0]) if first.get("loc") else "query"
    message = first["msg"] if str(first["msg"]).startswith(name) else f"{name}: {first['msg']}"
    types = {e["type"] for e in errors}
    code = next((c for c in ("invalid_text", "invalid_json") if c in types), None)
    return InvalidParameter(message, code=code, details=details)


# The `more` token keeps the error body it has always had (400 `invalid_request` naming `more`).
MORE = KeysetCursor(
    parameter="more",
    message="more: the more link is not one this LRS handed out",
    code="invalid_request",
    details=[{"location": ["query", "more"], "message": "unknown token", "type": "more"}],
)


def encode_more(query: Query, last: Statement) -> str:
    """The opaque `more` token (kit/cursors.py): the filters and where the page ended."""
    after = [last.stored.isoformat(), str(last.id)]
    return MORE.encode_json({"q": query.model_dump(mode="json"), "after": after})


def decode_more(token: str) -> tuple[Query, tuple[datetime, uuid.UUID]]:
    """The filters and position (stored, id) of a `more` token, checked like fresh parameters
    (a caller may have edited it). Raises InvalidCursor (400 `invalid_request` naming `more`)
    when it is not one this LRS handed out."""
    state = MORE.decode_json(token)
    if not isinstance(state, dict) or "q" not in state:
        raise MORE.refuse()
    at, last_id = MORE.check(state.get("after"), (datetime, uuid.UUID))
    try:
        if at.tzinfo is None:
            raise ValueError("a position without a time zone")
        return Query.model_validate(state["q"]), (at.astimezone(UTC), last_id)
    except (ValueError, OverflowError) as exc:  # pydantic's ValidationError is a ValueError
        raise MORE.refuse() from exc
