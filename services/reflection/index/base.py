"""The contract every index adapter keeps, and the shapes it reads and answers with."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DENSE = "dense"
SPARSE = "bm25"
EVERYONE = "*"  # in a chunk's `teams`: visible to the whole organisation
RRF_K = 60
KEYWORD_FIELDS = ("teams", "document_id", "version_key", "process", "language")


@dataclass(frozen=True)
class SparseVec:
    """A sparse (BM25) vector: term ids and their weights, in the same order."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk as the index stores it: dense and BM25 vectors and the payload queries filter on
    and show (`teams`, `document_id`, `version_key`, `process`, `language`, text, offsets)."""

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
    """One chunk found: its id, its score (fused rank score, or cosine similarity for a dense
    search) and its payload (document, version, text, offsets...)."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


def to_hits(points: Iterable[Any]) -> list[Hit]:
    """Hits from an engine's scored points (both Qdrant libraries give `id`, `score`, `payload`),
    in the engine's order."""
    return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in points]


@dataclass(frozen=True)
class HybridQuery:
    """One hybrid search: a dense vector and the sparse (BM25) vectors of the query, each a
    prefetch of `candidates` chunks under `where`, fused by RRF into the best `k`."""

    dense: list[float]
    sparse: Sequence[SparseVec]
    where: IndexFilter
    k: int
    candidates: int


class VectorIndex(ABC):
    """The contract every index adapter keeps (Edge in-process, Qdrant server); the service talks
    to nothing else. Chunks are deleted by a keyword field of their payload."""

    @abstractmethod
    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        """Write the chunks, replacing those with the same ids; nothing for an empty list."""

    @abstractmethod
    async def _delete(self, key: str, value: str) -> None: ...

    async def delete_version(self, version_key: str) -> None:
        """Delete every chunk of one version (`document_id:number`)."""
        await self._delete("version_key", version_key)

    async def delete_document(self, document_id: str) -> None:
        """Delete every chunk of every version of one document."""
        await self._delete("document_id", document_id)

    async def search(
        self,
        dense: list[float],
        sparse: Sequence[SparseVec],
        where: IndexFilter,
        k: int,
        candidates: int = 100,
    ) -> list[Hit]:
        """The best `k` chunks under `where` by reciprocal rank fusion (RRF_K) of a dense and
        one BM25 prefetch per sparse vector, `candidates` chunks each; best first."""
        return await self._hybrid(HybridQuery(dense, sparse, where, k, candidates))

    @abstractmethod
    async def _hybrid(self, query: HybridQuery) -> list[Hit]: ...

    @abstractmethod
    async def search_dense(self, dense: list[float], where: IndexFilter, k: int) -> list[Hit]:
        """The best `k` chunks under `where` by cosine similarity only (-1 to 1): an absolute
        measure of relevance, unlike fused ranks."""

    @abstractmethod
    async def search_sparse(self, sparse: SparseVec, where: IndexFilter, k: int) -> list[Hit]:
        """The best `k` chunks under `where` by BM25 alone (for the retrieval benchmark)."""

    @abstractmethod
    async def count(self, where: IndexFilter) -> int:
        """How many chunks match `where`, exactly."""

    @abstractmethod
    async def optimize(self) -> None:
        """Build the vector index over newly written chunks (a no-op where the engine does it
        by itself)."""

    @abstractmethod
    async def ping(self) -> None:
        """Nothing when the engine answers; raises the engine's error otherwise (readiness)."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release the engine; the index is unusable afterwards."""
