"""Qdrant Edge: the Qdrant engine inside this process, persisted under `var/`.

A shard is locked to one process (its WAL lock), so the reflection service runs one worker in
this mode and nothing else opens the shard. Engine calls are quick but synchronous; they run on
one dedicated thread, which also serialises them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    Fusion,
    MatchAny,
    Modifier,
    PayloadSchemaType,
    Point,
    Prefetch,
    Query,
    QueryRequest,
    SparseVector,
    UpdateOperation,
)

from services.reflection.index import base

T = TypeVar("T")


def _any(key: str, values: Sequence[str]) -> FieldCondition:
    return FieldCondition(key=key, match=MatchAny(list(values)))


def edge_filter(where: base.IndexFilter) -> Filter | None:
    """`where` as a Qdrant Edge filter (index.base.conditions), or None for no condition."""
    must, must_not = base.conditions(where)
    if not must and not must_not:
        return None
    return Filter(
        must=[_any(k, v) for k, v in must] or None,
        must_not=[_any(k, v) for k, v in must_not] or None,
    )


class EdgeIndex(base.VectorIndex):
    """The index in this process: a Qdrant Edge shard in the folder `path` (made on first use,
    with `dimensions`-long cosine vectors, BM25 with IDF and keyword indexes)."""

    def __init__(self, path: Path, dimensions: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-edge")
        path.mkdir(parents=True, exist_ok=True)
        if any(path.iterdir()):
            self._shard = EdgeShard.load(str(path))
        else:
            config = EdgeConfig(
                vectors={base.DENSE: EdgeVectorParams(size=dimensions, distance=Distance.Cosine)},
                sparse_vectors={base.SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
            )
            self._shard = EdgeShard.create(str(path), config)
            for key in base.KEYWORD_FIELDS:
                self._shard.update(
                    UpdateOperation.create_field_index(key, PayloadSchemaType.Keyword)
                )

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def upsert(self, chunks: Sequence[base.IndexedChunk]) -> None:
        """Write the chunks on the engine's thread (VectorIndex.upsert)."""
        points = [
            Point(
                c.id,
                {base.DENSE: c.dense, base.SPARSE: SparseVector(c.sparse.indices, c.sparse.values)},
                c.payload,
            )
            for c in chunks
        ]
        if points:
            await self._run(self._shard.update, UpdateOperation.upsert_points(points))

    async def _delete(self, key: str, value: str) -> None:
        where = Filter(must=[_any(key, [value])])
        await self._run(self._shard.update, UpdateOperation.delete_points_by_filter(where))

    async def _hybrid(self, query: base.HybridQuery) -> list[base.Hit]:
        condition = edge_filter(query.where)
        vectors = [Query.Nearest(query.dense, using=base.DENSE)] + [
            Query.Nearest(SparseVector(v.indices, v.values), using=base.SPARSE)
            for v in query.sparse
        ]
        prefetches = [Prefetch(limit=query.candidates, query=v, filter=condition) for v in vectors]
        # The stub omits Fusion's nested classes from the accepted query types.
        fusion: Any = Fusion.Rrf(k=base.RRF_K)
        request = QueryRequest(
            limit=query.k, prefetches=prefetches, query=fusion, with_payload=True
        )
        return base.to_hits(await self._run(self._shard.query, request))

    async def search_dense(
        self, dense: list[float], where: base.IndexFilter, k: int
    ) -> list[base.Hit]:
        """Cosine similarity only (VectorIndex.search_dense)."""
        request = QueryRequest(
            limit=k,
            query=Query.Nearest(dense, using=base.DENSE),
            filter=edge_filter(where),
            with_payload=True,
        )
        return base.to_hits(await self._run(self._shard.query, request))

    async def search_sparse(
        self, sparse: base.SparseVec, where: base.IndexFilter, k: int
    ) -> list[base.Hit]:
        """BM25 alone (VectorIndex.search_sparse)."""
        query = Query.Nearest(SparseVector(sparse.indices, sparse.values), using=base.SPARSE)
        request = QueryRequest(limit=k, query=query, filter=edge_filter(where), with_payload=True)
        return base.to_hits(await self._run(self._shard.query, request))

    async def count(self, where: base.IndexFilter) -> int:
        """Exact count of chunks under `where`."""
        return int(
            await self._run(self._shard.count, CountRequest(filter=edge_filter(where), exact=True))
        )

    async def optimize(self) -> None:
        """Build the HNSW index over new segments. Measured with qdrant-edge-py 0.9: 125 s for
        100k chunks on 2 cores, during which queries wait; so it runs on request (admins, quiet
        hours), not by itself."""
        await self._run(self._shard.optimize)

    async def ping(self) -> None:
        """Read the shard's info: raises when the shard is unusable."""
        await self._run(self._shard.info)

    async def close(self) -> None:
        """Flush and close the shard (releasing its WAL lock), then stop the engine's thread."""
        await self._run(self._shard.flush)
        await self._run(self._shard.close)
        self._executor.shutdown(wait=True)
