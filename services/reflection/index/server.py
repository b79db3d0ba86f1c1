"""Qdrant server (or cluster) through `qdrant-client`, for scale-out.

The same contract as the Edge adapter; tests run it against qdrant-client's local mode, which
is the client's own Python implementation of the engine (slow, but the same API).
"""

from __future__ import annotations

from collections.abc import Sequence

from qdrant_client import AsyncQdrantClient, models

from services.reflection.index import base


def _any(key: str, values: Sequence[str]) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))


def server_filter(where: base.IndexFilter) -> models.Filter | None:
    """`where` as a qdrant-client filter (index.base.conditions), or None for no condition."""
    must, must_not = base.conditions(where)
    if not must and not must_not:
        return None
    return models.Filter(
        must=[_any(k, v) for k, v in must] or None,
        must_not=[_any(k, v) for k, v in must_not] or None,
    )


def _sparse(vector: base.SparseVec) -> models.SparseVector:
    return models.SparseVector(indices=vector.indices, values=vector.values)


class ServerIndex(base.VectorIndex):
    """The index on a Qdrant server or cluster, one collection; make it with `open`."""

    def __init__(self, client: AsyncQdrantClient, collection: str, dimensions: int) -> None:
        self._client = client
        self._collection = collection
        self._dimensions = dimensions

    @classmethod
    async def open(
        cls,
        client: AsyncQdrantClient,
        collection: str,
        dimensions: int,
        shards: int = 1,
        replicas: int = 1,
    ) -> ServerIndex:
        """Creates the collection on first use; on a cluster, spread over `shards` with
        `replicas` copies of each (a node can fail without losing or hiding chunks)."""
        index = cls(client, collection, dimensions)
        if not await client.collection_exists(collection):
            await client.create_collection(
                collection,
                shard_number=shards,
                replication_factor=replicas,
                write_consistency_factor=1,
                vectors_config={
                    base.DENSE: models.VectorParams(
                        size=dimensions, distance=models.Distance.COSINE
                    )
                },
                sparse_vectors_config={
                    base.SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
            for key in base.KEYWORD_FIELDS:
                await client.create_payload_index(collection, key, models.PayloadSchemaType.KEYWORD)
        return index

    async def upsert(self, chunks: Sequence[base.IndexedChunk]) -> None:
        """Write the chunks and wait until the server applied them (VectorIndex.upsert)."""
        if not chunks:
            return
        points = [
            models.PointStruct(
                id=c.id,
                vector={base.DENSE: c.dense, base.SPARSE: _sparse(c.sparse)},
                payload=c.payload,
            )
            for c in chunks
        ]
        await self._client.upsert(self._collection, points=points, wait=True)

    async def _delete(self, key: str, value: str) -> None:
        selector = models.FilterSelector(filter=models.Filter(must=[_any(key, [value])]))
        await self._client.delete(self._collection, points_selector=selector, wait=True)

    async def _hybrid(self, query: base.HybridQuery) -> list[base.Hit]:
        condition = server_filter(query.where)
        limit = query.candidates
        prefetch = [
            models.Prefetch(query=query.dense, using=base.DENSE, limit=limit, filter=condition)
        ]
        prefetch += [
            models.Prefetch(query=_sparse(v), using=base.SPARSE, limit=limit, filter=condition)
            for v in query.sparse
        ]
        result = await self._client.query_points(
            self._collection,
            prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=base.RRF_K)),
            limit=query.k,
            with_payload=True,
        )
        return base.to_hits(result.points)

    async def search_dense(
        self, dense: list[float], where: base.IndexFilter, k: int
    ) -> list[base.Hit]:
        """Cosine similarity only (VectorIndex.search_dense)."""
        result = await self._client.query_points(
            self._collection,
            query=dense,
            using=base.DENSE,
            query_filter=server_filter(where),
            limit=k,
            with_payload=True,
        )
        return base.to_hits(result.points)

    async def search_sparse(
        self, sparse: base.SparseVec, where: base.IndexFilter, k: int
    ) -> list[base.Hit]:
        """BM25 alone (VectorIndex.search_sparse)."""
        result = await self._client.query_points(
            self._collection,
            query=_sparse(sparse),
            using=base.SPARSE,
            query_filter=server_filter(where),
            limit=k,
            with_payload=True,
        )
        return base.to_hits(result.points)

    async def count(self, where: base.IndexFilter) -> int:
        """Exact count of chunks under `where`."""
        result = await self._client.count(
            self._collection, count_filter=server_filter(where), exact=True
        )
        return int(result.count)

    async def optimize(self) -> None:
        """A Qdrant server optimises its segments in the background by itself."""

    async def ping(self) -> None:
        """Read the collection's info: raises when the server or the collection is gone."""
        await self._client.get_collection(self._collection)

    async def close(self) -> None:
        """Close the client's connections."""
        await self._client.close()
