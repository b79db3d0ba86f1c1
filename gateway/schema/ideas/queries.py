"""Ideas in GraphQL, reading: a Relay-style page of ideas, one idea, and ideas that resemble a
draft (duplicates), each asked of the ideas service as the caller."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.connections import check_first
from gateway.schema.context import Context
from gateway.schema.ideas.types import (
    IdeaConnection,
    IdeaFilter,
    IdeaSort,
    SimilarIdeas,
    idea_page_from,
    similar_from,
)
from gateway.schema.shared import Idea, idea_from
from gateway.security import signed_in_field
from gateway.upstream import read, read_or_none


@strawberry.type
class IdeasQuery:
    """The idea fields: ideas, idea, similarIdeas."""

    @signed_in_field("Ideas you may see, newest first by default.")
    async def ideas(
        self,
        info: Info[Context, None],
        filter: IdeaFilter | None = None,
        sort: IdeaSort = IdeaSort.NEWEST,
        first: int = 20,
        after: str | None = None,
    ) -> IdeaConnection:
        """A page of the ideas the caller may see (1-100, after the cursor `after`). Raises
        GraphQLError BAD_USER_INPUT for `first` out of range; Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        check_first(first)
        f = filter or IdeaFilter()
        params: list[tuple[str, str]] = [("sort", sort.value), ("limit", str(first))]
        params += [("status", s.value) for s in f.status or []]
        for key, value in (("team", f.team), ("tag", f.tag), ("q", f.search), ("cursor", after)):
            if value is not None:
                params.append((key, value))
        if f.mine:
            params.append(("mine", "true"))
        if f.following:
            params.append(("following", "true"))
        return await read(info, "ideas", "/v1/ideas", idea_page_from, params=params)

    @signed_in_field("One idea, or null when it does not exist for you.")
    async def idea(self, info: Info[Context, None], id: strawberry.ID) -> Idea | None:
        """The idea, or None when the service answers 404. Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        return await read_or_none(info, "ideas", "/v1/ideas/{id}", idea_from, ids={"id": id})

    @signed_in_field("Existing ideas that resemble a draft text.")
    async def similar_ideas(
        self, info: Info[Context, None], text: str, team: str | None = None, first: int = 5
    ) -> SimilarIdeas:
        """Existing ideas like `text` (at most `first`), optionally in one team. Raises
        GraphQLError (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the
        service's code in capitals."""
        body: dict[str, Any] = {"text": text, "limit": first}
        if team:
            body["team"] = team
        return await read(
            info, "ideas", "/v1/ideas/similar", similar_from, method="POST", json=body
        )
