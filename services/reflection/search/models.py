"""The shapes of search and of the embeddings endpoint: filters, requests, hits, results."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from kit.text import VISIBLE, StorableText


class SearchFilters(BaseModel):
    """Narrow a search to processes, documents or languages (empty: no narrowing)."""

    model_config = ConfigDict(extra="forbid")

    process: list[str] = Field(default_factory=list, max_length=20)
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    language: list[str] = Field(default_factory=list, max_length=5)


class SearchRequest(BaseModel):
    """A search: the question, its filters and how many hits (`k`, 1 to 50)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # A search no one could read is also no knowledge gap a coach could read (gaps/service.py).
    query: Annotated[str, StringConstraints(min_length=1, max_length=2000), VISIBLE]
    filters: SearchFilters = Field(default_factory=SearchFilters)
    k: StrictInt = Field(default=5, ge=1, le=50)


class SearchHit(BaseModel):
    """One passage found, with what a citation needs."""

    citation_id: str = Field(description="Cite this; it names the chunk.")
    document_id: uuid.UUID
    document_title: str
    version: int
    section: list[str] = Field(description="Heading path of the chunk, e.g. [Storingen, Noodstop].")
    start: int = Field(description="Character offset of the chunk in the document's text.")
    end: int
    text: str
    snippet: str = Field(description="The best passage, matched words marked as **word**.")
    score: float
    language: str
    process: str | None


class SearchResult(BaseModel):
    """The hits of a search, best first."""

    hits: list[SearchHit]


class SearchResultWithGap(SearchResult):
    """The hits, and whether the question is a knowledge gap."""

    relevance: float = Field(
        description="Cosine similarity of the closest passage you may read (dense model)."
    )
    gap: bool = Field(description="Nothing you may read answered this well: a knowledge gap.")


# Outer bounds of the request shape; the settings' caps (smaller) are checked in the route.
EmbeddingText = Annotated[StorableText, StringConstraints(min_length=1, max_length=100_000)]


class EmbeddingRequest(BaseModel):
    """Texts to embed, and whether they are queries or passages (e5 embeds them differently)."""

    model_config = ConfigDict(extra="forbid")

    texts: list[EmbeddingText] = Field(min_length=1, max_length=1000)
    kind: Literal["query", "passage"] = Field(
        description="`query` for what someone searches with, `passage` for what is searched."
    )


class EmbeddingResponse(BaseModel):
    """The model's name and dimensions, and one vector per text, in order."""

    model: str
    dimensions: int
    vectors: list[list[float]]
