"""Idempotency keys for creates that may be retried: the same key gives the first result.

A caller (the reflection service turning an action into an idea, the gateway passing on a
client's key) sends `Idempotency-Key` on `POST /v1/ideas` and `POST /v1/ideas/{id}/comments`.
The key is scoped to the caller's subject and stored with the created row, under a unique
constraint (author_id, idempotency_key), so two concurrent retries cannot both insert. With the
key comes a hash of the validated request: a retry with the same body gets the first result
(200 and `Idempotent-Replayed: true`); the same key with a different body is refused with 422
`idempotency_key_reused`, whose details name the resource the key already made.
Source of the rule: the IETF draft "The Idempotency-Key HTTP Header Field".
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Header
from pydantic import BaseModel

from kit.auth import Principal
from kit.errors import Unprocessable

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any visible ASCII up to 200 characters, unique per create you mean "
        "(e.g. a UUID). A retry with the same key and body returns the first result.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyReused(Unprocessable):
    """422: the key already made something else, from a different request body."""

    code = "idempotency_key_reused"


class KeyedRow(Protocol):
    """A row created under an idempotency key: its `id` and the request fingerprint."""

    id: Any
    idempotency_hash: str | None


def authored(principal: Principal, key: str | None, digest: str | None) -> dict[str, Any]:
    """The columns of a row `principal` creates, with the Idempotency-Key it came with (or
    None) and the request's `fingerprint`: `author_id`, `author_name`, `idempotency_key`,
    `idempotency_hash`."""
    return {
        "author_id": principal.subject,
        "author_name": principal.name,
        "idempotency_key": key,
        "idempotency_hash": digest,
    }


def fingerprint(body: BaseModel, *scope: str) -> str:
    """Hex SHA-256 of the validated body (normalised by the model) and the scope it applies to
    (e.g. the idea a comment is on): equal requests have equal fingerprints."""
    document = {"body": body.model_dump(mode="json"), "scope": list(scope)}
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


R = TypeVar("R", bound=KeyedRow)


def replay(existing: R, digest: str) -> R:
    """The first result for a retried request; raises `IdempotencyKeyReused` (422) when the key
    came with a different body the first time."""
    if existing.idempotency_hash != digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request: use a new key",
            details={"id": str(existing.id)},
        )
    return existing
