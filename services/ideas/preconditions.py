"""Preconditions of writes: the ETag every versioned object is handed out with, and the
version an `If-Match` header names (RFC 9110 section 13.1.1). Every state change carries the
version its caller saw, so a second writer is refused instead of silently overwriting."""

from __future__ import annotations

import re

from kit.errors import AppError, PreconditionFailed, PreconditionRequired

STRONG_ETAG = re.compile(r'"([0-9]{1,18})"')  # exactly what etag() hands out


class StaleVersion(PreconditionFailed):
    """412: an If-Match edit of something that changed since the caller read it."""

    code = "stale_version"


def etag(version: int) -> str:
    """The strong ETag of `version`, e.g. `"4"`."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int:
    """The version in an If-Match ETag. Raises 428 `if_match_required` when there is none and
    400 `invalid_if_match` for something this service never handed out: `*`, lists, weak
    ETags (`W/"4"`: If-Match compares strongly, RFC 9110 section 13.1.1) and unquoted values."""
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the ETag you read, so nobody's change is overwritten",
            code="if_match_required",
        )
    found = STRONG_ETAG.fullmatch(if_match.strip())
    if found is None:
        raise AppError("If-Match must be an ETag this service handed out", code="invalid_if_match")
    return int(found.group(1))
