"""The types of the ideas API's fields, each declared once: the workflow status, the impact, and
the input rules (unknown fields refused, JSON's own types only, lengths, visible text where a
person reads it)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StringConstraints,
)
from sqlmodel import Field

from kit.text import STORABLE, VISIBLE, is_visible


class Strict(BaseModel):
    """Base of every input shape: unknown fields are refused, text is stripped.

    Fields of these shapes take JSON's own types only (docs/architecture.md, "inputs are
    strictly typed JSON"): booleans are `StrictBool`, integers `StrictInt`, numbers
    `StrictFloat`, so `0`, `"yes"`, `"5"`, `5.0` or `true` in the wrong place is 422
    `validation_error`. Strictness is per field, not `strict=True` on the model, because
    FastAPI validates decoded JSON in pydantic's Python mode, where a strict model would
    refuse UUID, date and enum values sent as strings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Text a person reads needs a visible character (kit/text.py): four zero-width spaces are not a
# title. Optional texts are checked when given; an empty proposal stays allowed.
Title = Annotated[str, StringConstraints(min_length=3, max_length=200), VISIBLE]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=5000), VISIBLE]


def _empty_or_visible(value: str) -> str:
    if value and not is_visible(value):
        raise ValueError("text needs at least one visible character")
    return value


OptionalText = Annotated[
    str, StringConstraints(max_length=5000), STORABLE, AfterValidator(_empty_or_visible)
]
Tag = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$"),
]
# Empty is "no reason" (the workflow answers 422 reason_required where one is needed).
Reason = Annotated[
    str, StringConstraints(max_length=1000), STORABLE, AfterValidator(_empty_or_visible)
]
# Effect on the work itself, from -2 (much worse) through 0 (none) to +2 (much better).
Scale = Annotated[StrictInt, Field(ge=-2, le=2)]


TeamKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]


CommentBody = Annotated[str, StringConstraints(min_length=1, max_length=2000), VISIBLE]


class Status(StrEnum):
    """Where an idea stands in the review workflow (the moves: service/workflow.py)."""

    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    accepted = "accepted"
    piloting = "piloting"
    implemented = "implemented"
    rejected = "rejected"
    parked = "parked"
    withdrawn = "withdrawn"


class Impact(Strict):
    """The effect of an idea on the work: hours saved per week, one-off cost in euros, and
    scales from -2 (much worse) to +2 (much better)."""

    hours_saved_per_week: StrictFloat | None = Field(default=None, ge=0, le=10_000)
    cost_eur: StrictFloat | None = Field(default=None, ge=0, le=1_000_000_000)
    quality: Scale | None = None
    safety: Scale | None = None
    work_pressure: Scale | None = None
    wellbeing: Scale | None = None
    notes: Annotated[str, StringConstraints(max_length=2000), VISIBLE] | None = None
