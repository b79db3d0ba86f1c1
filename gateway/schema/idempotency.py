"""Idempotency keys a client passes through the gateway's create mutations (submitIdea,
commentOnIdea) to the service's `Idempotency-Key` header (services/ideas/idempotency.py).

The gateway does not make keys itself: only the client knows which two requests are one
intent (a retry) and which are two. A key that could not travel in a header is refused here.
"""

from __future__ import annotations

import re

from gateway.schema.errors import FieldError, ValidationError

IDEMPOTENCY_KEY_HELP = (
    "A key you choose for this create (visible ASCII, 1-200 characters, e.g. a UUID), passed "
    "to the service as Idempotency-Key: a retry with the same key and input returns the first "
    "result instead of a second one; the same key with other input is a ValidationError "
    "`idempotency_key_reused`."
)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def bad_idempotency_key(key: str | None) -> ValidationError | None:
    """None when `key` is absent or 1-200 visible ASCII characters; otherwise the
    ValidationError `invalid_idempotency_key` to answer, before any call (a key that cannot
    travel in an HTTP header)."""
    if key is None or _IDEMPOTENCY_KEY.fullmatch(key):
        return None
    return ValidationError(
        code="invalid_idempotency_key",
        message="idempotencyKey must be 1-200 visible ASCII characters",
        fields=[FieldError(field="idempotencyKey", message="1-200 visible ASCII characters")],
    )


def idempotency_headers(key: str | None) -> dict[str, str]:
    """The header that carries the key to the service, or none."""
    return {"Idempotency-Key": key} if key is not None else {}
