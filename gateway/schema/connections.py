"""Relay connections, one shape for every paginated list (ideas, documents, reflections): the
edge and connection bases, page information, the page-size check and the builder.

The cursors are the services' own (opaque to the gateway, kit/cursors.py makes them); each list
names its edge and connection types so that their descriptions say what they hold. `connection_for`
declares both from the node type, so the wording of those descriptions is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import new_class
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from graphql import GraphQLError

MAX_PAGE = 100  # the services' own largest page

Node = TypeVar("Node")
Built = TypeVar("Built")
Declared = TypeVar("Declared", bound="type[Connection[Any]]")


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
    # The edge type connection_for made for a subclass; not a GraphQL field (a ClassVar).
    edge_type: ClassVar[type[Any]]


def connection_for(
    node: type, *, edges: str, edge: str | None = None
) -> Callable[[Declared], Declared]:
    """A class decorator that makes a Connection subclass the Relay connection of `node` (e.g.
    Idea): a `<Node>Edge` type ("One idea in a list." unless `edge` says more, its node "The
    idea."), `edges` described by `edges`, and the connection "A page of ideas (Relay
    connection)."; the edge type is kept as `edge_type`. Returns the decorated class, now a
    Strawberry type; raises nothing."""
    noun = node.__name__.lower()

    def declare(cls: Declared) -> Declared:
        body = {
            "__doc__": f"One {noun} of a page with the service's cursor.",
            "__module__": cls.__module__,
            "__annotations__": {"node": node},
            "node": strawberry.field(description=f"The {noun}."),
        }
        # new_class, not type(): the base is a parametrised generic. The types are built from
        # arguments at run time, which mypy cannot check as annotations (hence the ignores).
        base = Edge[node]  # type: ignore[valid-type]
        made = new_class(f"{node.__name__}Edge", (base,), exec_body=lambda ns: ns.update(body))
        edge_type = strawberry.type(made, description=edge or f"One {noun} in a list.")
        cls.__annotations__ = {"edges": list[edge_type]}  # type: ignore[valid-type]
        setattr(cls, "edges", strawberry.field(description=edges))  # noqa: B010 - a field
        cls.edge_type = edge_type
        return strawberry.type(cls, description=f"A page of {noun}s (Relay connection).")

    return declare


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


def connection_of_page(
    connection: Callable[..., Built],
    edge: Callable[..., Any],
    present: Callable[[Any], Any],
    body: dict[str, Any],
) -> Built:
    """`connection` for a service's REST page `{items, cursors, next_cursor}` that carries one
    cursor per item: each item `present`ed as a node, `endCursor` the last item's cursor.
    Raises ValueError when items and cursors differ in number."""
    cursors = body["cursors"]
    return connection_of(
        connection,
        edge,
        [present(item) for item in body["items"]],
        cursors,
        next_cursor=body["next_cursor"],
        end_cursor=cursors[-1] if cursors else None,
    )
