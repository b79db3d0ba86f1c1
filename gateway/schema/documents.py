"""Process documents and permission-aware search in GraphQL.

Uploading stays a REST call on the reflection service (`POST /v1/documents`, multipart), which
every HTTP client and LMS already speaks; GraphQL multipart uploads would add a second,
less-supported way. See docs/reflection.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.connections import (
    Connection,
    Edge,
    check_first,
    connection_for,
    connection_of_page,
)
from gateway.schema.context import Context
from gateway.schema.ids import InvalidId, parse_ids
from gateway.security import signed_in_field
from gateway.upstream import read, read_or_none


@strawberry.type(description="An organisational process document (work instruction, procedure).")
class Document:
    """A process document as the reflection service lists it (its live version, chunk count)."""

    id: strawberry.ID = strawberry.field(description="The document's UUID.")
    title: str = strawberry.field(description="Title.")
    process: str | None = strawberry.field(description="The process it belongs to.")
    owner: str | None = strawberry.field(description="Who maintains it.")
    language: str = strawberry.field(description="nl or en.")
    teams: list[str] = strawberry.field(description='Who may read it; ["*"] is everyone.')
    version: int | None = strawberry.field(description="The live version number.")
    version_label: str | None = strawberry.field(description="The owner's version label.")
    chunk_count: int = strawberry.field(description="Searchable passages.")
    updated_at: datetime = strawberry.field(description="Last change.")


def document_from(data: dict[str, Any]) -> Document:
    """The Document for a REST document (a dict); raises KeyError when a required key is missing."""
    return Document(
        id=strawberry.ID(data["id"]),
        title=data["title"],
        process=data.get("process"),
        owner=data.get("owner"),
        language=data["language"],
        teams=list(data["teams"]),
        version=data.get("version"),
        version_label=data.get("version_label"),
        chunk_count=data["chunk_count"],
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


@connection_for(Document, edges="The documents.")
class DocumentConnection(Connection[Edge[Document]]):
    """A page of documents ordered by id, each with the service's cursor after it."""


@strawberry.input(description="Narrow a search; all given conditions must hold.")
class SearchFilter:
    """Optional conditions of a search: processes, document ids (UUIDs), languages."""

    process: list[str] | None = strawberry.field(
        default=None, description="Any of these processes."
    )
    document_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these."
    )
    language: list[str] | None = strawberry.field(default=None, description="nl and/or en.")


@strawberry.type(
    description="A passage of a process document that answers a search, with its citation."
)
class SearchHit:
    """One passage a search found, with its citation id and fused score."""

    citation_id: strawberry.ID = strawberry.field(description="Cite this id.")
    document_id: strawberry.ID = strawberry.field(description="The document.")
    document_title: str = strawberry.field(description="Its title.")
    version: int = strawberry.field(description="The document version the passage is from.")
    section: list[str] = strawberry.field(description="Heading path of the passage.")
    text: str = strawberry.field(description="The passage.")
    snippet: str = strawberry.field(description="The best part, matched words as **word**.")
    score: float = strawberry.field(description="Fused relevance.")


def _document_page(body: dict[str, Any]) -> DocumentConnection:
    return connection_of_page(DocumentConnection, DocumentConnection.edge_type, document_from, body)


def _hits_from(body: dict[str, Any]) -> list[SearchHit]:
    return [
        SearchHit(
            citation_id=strawberry.ID(h["citation_id"]),
            document_id=strawberry.ID(h["document_id"]),
            document_title=h["document_title"],
            version=h["version"],
            section=list(h["section"]),
            text=h["text"],
            snippet=h["snippet"],
            score=h["score"],
        )
        for h in body["hits"]
    ]


@strawberry.type
class DocumentsQuery:
    """The document fields: documents, document, search."""

    @signed_in_field("Process documents you may read.")
    async def documents(
        self,
        info: Info[Context, None],
        process: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> DocumentConnection:
        """A page of the documents the caller may read (1-100, after the cursor `after`).
        Raises GraphQLError BAD_USER_INPUT for `first` out of range; Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        check_first(first)
        params: dict[str, Any] = {"limit": first}
        if process:
            params["process"] = process
        if after:
            params["cursor"] = after
        return await read(info, "reflection", "/v1/documents", _document_page, params=params)

    @signed_in_field("One document, or null when you may not read it.")
    async def document(self, info: Info[Context, None], id: strawberry.ID) -> Document | None:
        """The document, or None when it does not exist or the caller may not read it.
        Raises GraphQLError (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or
        the service's code in capitals."""
        return await read_or_none(
            info, "reflection", "/v1/documents/{id}", document_from, ids={"id": id}
        )

    @signed_in_field("Hybrid search over the documents you may read.")
    async def search(
        self, info: Info[Context, None], query: str, filter: SearchFilter | None = None, k: int = 5
    ) -> list[SearchHit]:
        """The passages that answer `query` (at most `k`), best first. Raises GraphQLError
        BAD_USER_INPUT for a malformed id in `filter.documentIds`; Raises GraphQLError
        (gateway.upstream.read): BAD_USER_INPUT, SERVICE_UNAVAILABLE, or the service's code
        in capitals."""
        filters: dict[str, Any] = {}
        if filter is not None:
            if filter.process:
                filters["process"] = filter.process
            if filter.document_ids:
                try:
                    filters["document_ids"] = parse_ids(filter.document_ids, "filter.documentIds")
                except InvalidId as exc:
                    exc.raise_for_query()
            if filter.language:
                filters["language"] = filter.language
        return await read(
            info,
            "reflection",
            "/v1/search",
            _hits_from,
            method="POST",
            json={"query": query, "filters": filters, "k": k},
        )
