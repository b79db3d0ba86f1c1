"""What every operation of every service may answer besides its success, as the OpenAPI
documents publish it: any 4xx carries the one error body of kit/errors.py (also 422, which
FastAPI would otherwise document in its own `{"detail": [...]}` shape that is never sent), and
503 when something the operation needs is unavailable. A genuine bug (500) is not promised.

Clients generated from the documents, and schemathesis (`make fuzz`), can then check every
refusal against the schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlmodel.main import SQLModelConfig


class ErrorDetail(BaseModel):
    """The inside of the one error body."""

    code: str = Field(description="Stable machine-readable reason, e.g. `invalid_text`.")
    message: str = Field(description="For people; may change between versions.")
    details: Any = Field(default=None, description="Per code: e.g. each invalid field.")


class ErrorBody(BaseModel):
    """`{"error": {"code", "message", "details"}}`: every refusal of every service."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorBody,
        "description": "Refused: the body's `error.code` says why.",
    },
    503: {"model": ErrorBody, "description": "A service this operation needs is unavailable."},
}


def _no_defaults(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


# The config of a response shape that inherits a table's fields: every field is always sent, so
# the published schema lists each as required and shows no default (a table's defaults are for
# rows, not answers).
SENT_IN_FULL = SQLModelConfig(
    json_schema_serialization_defaults_required=True, json_schema_extra=_no_defaults
)
