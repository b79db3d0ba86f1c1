"""The one opaque cursor for every paginated list: a keyset (the sort values of the last row
handed out, ending with its id) or a small JSON state, as a URL-safe token.

A token is base64url (RFC 4648 §5, padding dropped) of compact JSON, so it fits a query string
without escaping. It is opaque to callers, not secret: a caller may edit one, so decoding checks
the token against the shape the list expects and refuses anything else with one 400, never a 500.
Each list keeps the error body it has always answered (parameter name, code, message, details):

    CURSOR = KeysetCursor()  # 400 invalid_cursor naming `cursor`
    token = CURSOR.encode((row.created_at, row.id))
    created_at, last_id = CURSOR.decode(token, (datetime, uuid.UUID))
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kit.errors import InvalidParameter
from kit.jsonsafe import loads_strict

Value = str | int | float | datetime | uuid.UUID
"""One value of a keyset. Sorting columns are text, numbers, moments or ids."""

DEFAULT_MESSAGE = "the cursor is not one this list handed out"


class InvalidCursor(InvalidParameter):
    """400 `invalid_cursor` (or the list's own `code`): a cursor this API did not hand out.

    `details` defaults to InvalidParameter's `[{"location": ["query", parameter], "parameter",
    "message"}]`; a list whose error body predates this class passes its own `details`."""

    code = "invalid_cursor"

    def __init__(
        self,
        parameter: str = "cursor",
        message: str = DEFAULT_MESSAGE,
        *,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(parameter, message, code=code)
        if details is not None:
            self.details = details


def _encode_value(value: Value) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"a cursor cannot hold {type(value).__name__}")


def _decode_value(raw: Any, kind: type) -> Any:
    """`raw` (a JSON value) as `kind`; ValueError when it is not one `_encode_value` made."""
    if kind is datetime and isinstance(raw, str):
        moment = datetime.fromisoformat(raw)
        # `encode` writes every moment with its offset; one without is an edited token, and a
        # naive value would fail deep in the query (UTC columns refuse it) as a 500.
        if moment.tzinfo is None:
            raise ValueError("a moment without its offset")
        return moment
    if kind is uuid.UUID and isinstance(raw, str):
        return uuid.UUID(raw)
    if kind is str and isinstance(raw, str):
        return raw
    # bool is an int to Python, never to a cursor; JSON writes a whole float as 1.0, an int as 1
    if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind is float and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return float(raw)
    raise ValueError(f"expected {kind.__name__}")


@dataclass(frozen=True)
class KeysetCursor:
    """How one list writes and reads its cursors, and the 400 it answers for a bad one.

    `parameter` is the query parameter that carries the token (named in the error), `code` and
    `message` the error body's; `details`, when given, replaces the default details so an
    existing error body stays as it was."""

    parameter: str = "cursor"
    message: str = DEFAULT_MESSAGE
    code: str = "invalid_cursor"
    details: Any = None

    def refuse(self) -> InvalidCursor:
        """The error to raise for a token this list did not hand out (400, this list's code).

        Returned, not raised, so a caller that finds a fault after decoding (a value out of
        range, a row that no longer exists) raises the same error: `raise cursor.refuse()`."""
        details = copy.deepcopy(self.details)  # each error owns its body
        return InvalidCursor(self.parameter, self.message, code=self.code, details=details)

    def encode(self, values: Sequence[Value]) -> str:
        """The opaque token for a keyset, e.g. `(sort name, created_at, id)`.

        Datetimes are written in ISO 8601 with their offset, UUIDs as text. Raises TypeError for
        a value of another type and ValueError for a NaN or infinite float (programming errors)."""
        return self.encode_json([_encode_value(value) for value in values])

    def decode(self, token: str, shape: Sequence[type]) -> tuple[Any, ...]:
        """The keyset `encode` wrote, one value per type in `shape` (str, int, float, datetime,
        uuid.UUID), as a tuple. Raises InvalidCursor (400, see `refuse`) when the token is not
        base64url JSON, has another length or holds a value of another type."""
        return self.check(self.decode_json(token), shape)

    def check(self, values: Any, shape: Sequence[type]) -> tuple[Any, ...]:
        """`values` (a JSON list, e.g. part of a `decode_json` state) read as `shape`, as a
        tuple; moments keep their offset (one without is refused). Raises InvalidCursor (400)
        when it is not a list of that length and those types."""
        if not isinstance(values, list) or len(values) != len(shape):
            raise self.refuse()
        try:
            return tuple(_decode_value(raw, kind) for raw, kind in zip(values, shape, strict=True))
        except ValueError as exc:
            raise self.refuse() from exc

    def encode_json(self, payload: Any) -> str:
        """The opaque token for a JSON-able state (for a list whose cursor also carries its
        filters). Raises TypeError/ValueError for a payload JSON cannot hold (NaN included)."""
        raw = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode_json(self, token: str) -> Any:
        """The state `encode_json` wrote, padding optional. Raises InvalidCursor (400) for a
        token that is not base64url of strict JSON (kit/jsonsafe.py: no NaN, no deep nesting)."""
        try:
            padded = token.rstrip("=") + "=" * (-len(token.rstrip("=")) % 4)
            return loads_strict(base64.urlsafe_b64decode(padded.encode("ascii")))
        except ValueError as exc:  # binascii.Error, UnicodeError and UnsafeJSON are ValueErrors
            raise self.refuse() from exc
