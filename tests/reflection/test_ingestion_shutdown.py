"""Shutdown does not wait for a whole document: a cancelled ingestion stops after the embedding
step running (search/embeddings.py EMBED_STEP chunks), and the next start resumes the job."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

import numpy as np
import pytest

from services.reflection.search.embeddings import EMBED_STEP, Embedder
from tests.reflection.conftest import ReflectionEnv

LONG = "# Werkinstructie\n\n" + "\n\n".join(
    f"## Stap {i}\n\nControleer machine {i} en noteer de meterstand {i * 7} in het logboek."
    for i in range(40)
)


@pytest.fixture
def reflection_overrides() -> dict[str, Any]:
    # On PostgreSQL a restart takes over only jobs older than this (another replica's are young).
    return {"ingest_stale_minutes": 0}


class _Watched:
    """The real embedder, noting each passage call and signalling the first one. The model call
    is shielded, as a thread would be: cancelling the caller leaves it running to its end."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model = embedder.model
        self.dimensions = embedder.dimensions
        self.calls: list[int] = []
        self.started = asyncio.Event()
        self.running: asyncio.Future[np.ndarray] | None = None

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        return await self.embedder.embed_queries(texts)

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        self.running = asyncio.ensure_future(self.embedder.embed_passages(texts))
        self.started.set()
        return await asyncio.shield(self.running)


async def test_a_cancelled_ingestion_stops_after_one_step_and_resumes_later(
    reflection: ReflectionEnv,
) -> None:
    accepted = await reflection.upload(LONG)
    job_id = accepted["job"]["id"]
    ingestor = reflection.app.state.ingestor
    watched = _Watched(ingestor.embedder)
    ingestor.embedder = watched
    task = asyncio.create_task(ingestor.run_once())
    await watched.started.wait()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    assert watched.running is not None
    await watched.running  # the step in flight ends, as the process waits for its thread
    # One model call of at most EMBED_STEP chunks ran; the job's other steps never started.
    assert watched.calls == [EMBED_STEP]
    assert (await reflection.job(job_id))["status"] == "running"

    ingestor.embedder = watched.embedder
    await ingestor.recover()
    await reflection.ingest()
    job = await reflection.job(job_id)
    assert job["status"] == "completed" and job["chunks_done"] == job["chunks_total"]
