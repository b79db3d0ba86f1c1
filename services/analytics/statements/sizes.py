"""Byte bounds of the LRS: one statement, one page of statements, one personal export.

A statement's size is its JSON (UTF-8, compact), attachments' binary excluded. Real xAPI
statements are a few KB; `ANALYTICS_MAX_STATEMENT_KB` (default 64) refuses anything bigger with
413 `statement_too_large` naming the statement's index in the batch, before anything is stored.
Pages (`GET /xapi/statements`) and exports (`/v1/my-data`) stop adding statements once the next
one would pass their byte budget, and hand out a `more` link for the rest (xAPI 1.0.3,
Communication 2.1.3 lets an LRS return fewer statements than `limit`). A page always holds at
least one statement so paging always progresses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kit.errors import PayloadTooLarge


def json_bytes(value: Any) -> int:
    """The size in bytes of `value` as compact UTF-8 JSON (lone surrogates counted as 3)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def check_statement_sizes(statements: Sequence[Any], max_bytes: int) -> None:
    """Raise 413 `statement_too_large` (details: `index`, `limit`, `size`) for the first
    statement whose JSON is larger than `max_bytes`; the caller stores nothing of the batch."""
    for index, statement in enumerate(statements):
        size = json_bytes(statement)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"statement {index} is {size} bytes; statements are limited to {max_bytes} bytes",
                code="statement_too_large",
                details={"index": index, "limit": max_bytes, "size": size},
            )


def fitting(bodies: Sequence[Any], budget: int) -> int:
    """How many leading `bodies` fit in `budget` bytes together (at least 1 when any exist)."""
    used = 0
    for count, body in enumerate(bodies):
        used += json_bytes(body) + 1
        if used > budget and count > 0:
            return count
    return len(bodies)
