"""Relay connections, one shape for every paginated list (ideas, documents, reflections): the
edge and connection bases, page information, the page-size check and the builder.

The cursors are the services' own (opaque to the gateway, kit/cursors.py makes them); each list
names its edge and connection types so that their descriptions say what they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

MAX_PAGE = 100  # the services' own largest page

Node = TypeVar("Node")
Built = TypeVar("Built")


@strawberry.type(description="Relay page information.")
class PageInfo:
    """Whether another page follows, and the cursor to ask for it with (`after`)."""

    has_next_page: bool = strawberry.field(description="More items follow `endCursor`.")
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page.")


@strawberry.type
class Edge(Generic[Node]):
    """One item of a page with its cursor; subclasses name the node's type and description."""

    cursor: str = strawberry.field(description="Opaque cursor.")
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    """A page of edges; subclasses name the edge type and describe `edges`."""

    edges: list[Node]
    page_info: PageInfo = strawberry.field(description="Whether more follow.")


def check_first(first: int, maximum: int = MAX_PAGE) -> None:
    """Returns nothing when 1 <= `first` <= `maximum` (items per page). Raises GraphQLError
    `BAD_USER_INPUT` otherwise, before any service is called."""
    if not 1 <= first <= maximum:
        raise GraphQLError(
            f"`first` must be between 1 and {maximum}", extensions={"code": "BAD_USER_INPUT"}
        )


def connection_of(
    connection: Callable[..., Built],
    edge: Callable[..., Any],
    nodes: Sequence[Any],
    cursors: Sequence[str],
    *,
    next_cursor: str | None,
    end_cursor: str | None,
) -> Built:
    """`connection` of one `edge` per node with its cursor (in order; as many cursors as nodes,
    else ValueError), `hasNextPage` when the service gave a `next_cursor`."""
    return connection(
        edges=[edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)],
        page_info=PageInfo(has_next_page=next_cursor is not None, end_cursor=end_cursor),
    )
