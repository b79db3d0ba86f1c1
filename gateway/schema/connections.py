"""Relay page information, shown by every paginated list (ideas, documents, reflections)."""

from __future__ import annotations

import strawberry


@strawberry.type(description="Relay page information.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")
