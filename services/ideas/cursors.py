"""Keyset cursors of the ideas list: the sort orders and the opaque cursor that resumes one."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import col

from kit.errors import InvalidParameter
from services.ideas.models import Idea


class Sort(StrEnum):
    newest = "newest"
    most_supported = "most_supported"
    recently_updated = "recently_updated"


class InvalidCursor(InvalidParameter):
    """400 `invalid_cursor` naming the `cursor` parameter."""

    code = "invalid_cursor"

    def __init__(self, message: str) -> None:
        super().__init__("cursor", message)


def sort_column(sort: Sort) -> Any:
    return {
        Sort.newest: col(Idea.created_at),
        Sort.most_supported: col(Idea.support_count),
        Sort.recently_updated: col(Idea.updated_at),
    }[sort]


def _sort_value(idea: Idea, sort: Sort) -> Any:
    if sort is Sort.most_supported:
        return idea.support_count
    moment = idea.created_at if sort is Sort.newest else idea.updated_at
    return moment.isoformat()


def encode_cursor(idea: Idea, sort: Sort) -> str:
    raw = json.dumps([sort.value, _sort_value(idea, sort), str(idea.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, idea_id = json.loads(base64.urlsafe_b64decode(padded))
        if name != sort.value:
            raise ValueError("cursor of another sort order")
        if sort is Sort.most_supported:
            if not isinstance(value, int):
                raise ValueError("bad count")
            return value, uuid.UUID(idea_id)
        return datetime.fromisoformat(value), uuid.UUID(idea_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("the cursor is not one this list handed out") from exc
