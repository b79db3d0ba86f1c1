"""Qdrant server (or cluster) through `qdrant-client`, for scale-out.

The same contract as the Edge adapter; tests run it against qdrant-client's local mode, which
is the client's own Python implementation of the engine (slow, but the same API).
"""

from __future__ import annotations

from collections.abc import Sequence

from qdrant_client import AsyncQdrantClient, models

from services.reflection.index.base import (
    DENSE,
    KEYWORD_FIELDS,
    RRF_K,
    SPARSE,
    Hit,
    IndexedChunk,
    IndexFilter,
    SparseVec,
    conditions,
)


def _any(key: str, values: Sequence[str]) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))


def server_filter(where: IndexFilter) -> models.Filter | None:
    must, must_not = conditions(where)
    if not must and not must_not:
        return None
    return models.Filter(
        must=[_any(k, v) for k, v in must] or None,
        must_not=[_any(k, v) for k, v in must_not] or None,
    )


def _sparse(vector: SparseVec) -> models.SparseVector:
    return models.SparseVector(indices=vector.indices, values=vector.values)


class ServerIndex:
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
                    DENSE: models.VectorParams(size=dimensions, distance=models.Distance.COSINE)
                },
                sparse_vectors_config={
                    SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
            for key in KEYWORD_FIELDS:
                await client.create_payload_index(collection, key, models.PayloadSchemaType.KEYWORD)
        return index

    async def upsert(self, chunks: Sequence[IndexedChunk]) -> None:
        if not chunks:
            return
        points = [
            models.PointStruct(
                id=c.id, vector={DENSE: c.dense, SPARSE: _sparse(c.sparse)}, payload=c.payload
            )
            for c in chunks
        ]
        await self._client.upsert(self._collection, points=points, wait=True)

    async def _delete(self, key: str, value: str) -> None:
        selector = models.FilterSelector(filter=models.Filter(must=[_any(key, [value])]))
        await self._client.delete(self._collection, points_selector=selector, wait=True)

    async def delete_version(self, version_key: str) -> None:
        await self._delete("version_key", version_key)

    async def delete_document(self, document_id: str) -> None:
        await self._delete("document_id", document_id)

    async def search(
        self,
        dense: list[float],
        sparse: Sequence[SparseVec],
        where: IndexFilter,
        k: int,
        candidates: int = 100,
    ) -> list[Hit]:
        condition = server_filter(where)
        prefetch = [models.Prefetch(query=dense, using=DENSE, limit=candidates, filter=condition)]
        prefetch += [
            models.Prefetch(query=_sparse(v), using=SPARSE, limit=candidates, filter=condition)
            for v in sparse
        ]
        result = await self._client.query_points(
            self._collection,
            prefetch=prefetch,
            query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
            limit=k,
            with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    async def search_dense(self, dense: list[float], where: IndexFilter, k: int) -> list[Hit]:
        result = await self._client.query_points(
            self._collection,
            query=dense,
            using=DENSE,
            query_filter=server_filter(where),
            limit=k,
            with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    async def search_sparse(self, sparse: SparseVec, where: IndexFilter, k: int) -> list[Hit]:
        result = await self._client.query_points(
            self._collection,
            query=_sparse(sparse),
            using=SPARSE,
            query_filter=server_filter(where),
            limit=k,
            with_payload=True,
        )
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in result.points]

    async def count(self, where: IndexFilter) -> int:
        result = await self._client.count(
            self._collection, count_filter=server_filter(where), exact=True
        )
        return int(result.count)

    async def optimize(self) -> None:
        """A Qdrant server optimises its segments in the background by itself."""

    async def ping(self) -> None:
        await self._client.get_collection(self._collection)

    async def close(self) -> None:
        await self._client.close()
