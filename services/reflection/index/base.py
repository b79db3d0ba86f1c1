"""The contract every index adapter keeps; the service talks to nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

DENSE = "dense"
SPARSE = "bm25"
EVERYONE = "*"  # in a chunk's `teams`: visible to the whole organisation
RRF_K = 60
KEYWORD_FIELDS = ("teams", "document_id", "version_key", "process", "language")


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexedChunk:
    id: str  # a UUID string, stable for (document, version, ordinal)
    dense: list[float]
    sparse: SparseVec
    payload: dict[str, Any]


@dataclass(frozen=True)
class IndexFilter:
    """Applied inside the engine's query, never after it.

    `teams=None` means no visibility restriction (admins); otherwise a chunk matches when its
    `teams` holds `*` or any of these teams.
    """

    teams: Sequence[str] | None = ()
    exclude_versions: Sequence[str] = ()
    processes: Sequence[str] = ()
    document_ids: Sequence[str] = ()
    languages: Sequence[str] = ()


def conditions(
    where: IndexFilter,
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """The filter as (must, must_not) lists of "field matches any of these values"; each
    adapter only translates them into its library's types, so both apply the same rules."""
    must: list[tuple[str, list[str]]] = []
    if where.teams is not None:
        must.append(("teams", [EVERYONE, *where.teams]))
    for key, values in (
        ("process", where.processes),
        ("document_id", where.document_ids),
        ("language", where.languages),
    ):
        if values:
            must.append((key, list(values)))
    must_not = [("version_key", list(where.exclude_versions))] if where.exclude_versions else []
    return must, must_not


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorIndex(Protocol):
    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None: ...

    async def delete_version(self, version_key: str) -> None: ...

    async def delete_document(self, document_id: str) -> None: ...

    async def search(
        self,
        dense: list[float],
        sparse: Sequence[SparseVec],
        where: IndexFilter,
        k: int,
        candidates: int = 100,
    ) -> list[Hit]: ...

    async def search_dense(self, dense: list[float], where: IndexFilter, k: int) -> list[Hit]:
        """Cosine similarity only: an absolute measure of relevance, unlike fused ranks."""
        ...

    async def count(self, where: IndexFilter) -> int: ...

    async def optimize(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
