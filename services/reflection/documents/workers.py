"""The ingestion worker: runs jobs in the background, one at a time, and swaps versions.

A job chunks a staged version, embeds what is not cached (batched, off the event loop), writes
the chunks to the index — still hidden, because their version is `staged` — and then makes the
version live in one SQL transaction, retiring the previous one. Queries exclude hidden versions
inside the index query, so no query sees two versions of a document or none: the old chunks are
deleted only after a grace period, long after any query that could still want them.

Jobs live in the database: after a restart, jobs that were running are queued again (their
chunk ids are stable, so a re-run overwrites) and given up, clearly, after three attempts.

Each step is its own short unit of work (kit.db.unit_of_work) and embedding runs between them,
outside any transaction, in steps of a few chunks: a worker cancelled at shutdown stops after
the step running, and the interrupted job is resumed by the next start. The loop and its start
and stop in the lifespan are kit/worker.py's. A job is claimed by its status (`running`, with
`started_at` as its lease, see `recover`), because callers watch that status through the API.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from fastapi import FastAPI

from kit.db import Database, unit_of_work, utcnow
from kit.text import safe_for_output
from kit.worker import run_forever, workers_running
from services.reflection.documents import repository
from services.reflection.documents.chunking import Chunk, chunk_sections
from services.reflection.documents.models import (
    ChunkEmbedding,
    JobStatus,
    VersionStatus,
)
from services.reflection.index.base import IndexedChunk, VectorIndex
from services.reflection.index.sparse import document_vector
from services.reflection.search.embeddings import Embedder, embed_in_steps
from services.reflection.settings import ReflectionSettings

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class _Work:
    """What one job indexes: its chunks and the payload every chunk of the version carries."""

    job_id: uuid.UUID
    language: str
    chunks: list[Chunk]
    payload: dict[str, Any]


class Ingestor:
    """Runs ingestion jobs one at a time and purges retired versions; `wake` starts a round
    early (set after an upload commits)."""

    def __init__(
        self,
        database: Database,
        index: VectorIndex,
        embedder: Embedder,
        settings: ReflectionSettings,
    ) -> None:
        self.database = database
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.wake = asyncio.Event()

    # -- lifecycle --
    async def recover(self) -> None:
        """Queue again the jobs left running by a process that died. On PostgreSQL, where
        several replicas may work, a job is only taken over once it has run longer than any job
        should (`ingest_stale_minutes`; another replica may still be working on a younger one)."""
        stale = utcnow() - timedelta(minutes=self.settings.ingest_stale_minutes)
        async with unit_of_work(self.database) as session:
            for job in await repository.running_jobs(session, stale):
                job.status = JobStatus.queued.value
                log.warning("ingestion job resumed after a restart", extra={"job": str(job.id)})

    async def run_forever(self) -> None:
        """Recover, then run rounds (one job, then a purge) until cancelled; never returns."""
        await self.recover()
        await run_forever(
            self._round,
            name="ingestion",
            poll_seconds=self.settings.ingest_poll_seconds,
            wake=self.wake,
        )

    async def _round(self) -> bool:
        worked = await self.run_once()
        await self.purge()
        return worked

    async def run_once(self) -> bool:
        """Run the oldest queued job to its end; False when there was none to run. A job that
        raises is marked failed with its reason (and its version failed), never re-raised."""
        job_id = await self._claim()
        if job_id is None:
            return False
        try:
            await self._process(job_id)
        except Exception as exc:
            log.exception("ingestion job failed", extra={"job": str(job_id)})
            # The reason is stored: a NUL or lone surrogate in a library's message must not
            # make the failure itself fail on PostgreSQL (the job would stay `running`).
            await self._fail(job_id, safe_for_output(f"{type(exc).__name__}: {exc}"[:2000]))
        return True

    async def _claim(self) -> uuid.UUID | None:
        """The oldest queued job, now running for this replica alone (repository.oldest_queued_job
        skips rows another replica holds); a job started MAX_ATTEMPTS times is failed instead."""
        async with unit_of_work(self.database) as session:
            job = await repository.oldest_queued_job(session)
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                job.status = JobStatus.failed.value
                job.error = f"gave up after {MAX_ATTEMPTS} attempts (the service restarted mid-job)"
                job.finished_at = utcnow()
                return None
            job.status = JobStatus.running.value
            job.attempts += 1
            job.started_at = utcnow()
            return job.id

    async def _fail(self, job_id: uuid.UUID, error: str) -> None:
        async with unit_of_work(self.database) as session:
            job = await repository.job(session, job_id)
            if job is None:
                return
            job.status = JobStatus.failed.value
            job.error = error
            job.finished_at = utcnow()
            if job.version_id:
                await repository.mark_version(
                    session, job.version_id, VersionStatus.failed, utcnow()
                )

    # -- one job --
    async def _process(self, job_id: uuid.UUID) -> None:
        work = await self._start(job_id)
        batch = self.settings.embed_batch_size
        for first in range(0, len(work.chunks), batch):
            part = work.chunks[first : first + batch]
            vectors, fresh = await self._vectors(part)
            await self.index.upsert(
                [
                    self._indexed(c, v, work.payload, work.language)
                    for c, v in zip(part, vectors, strict=True)
                ]
            )
            async with unit_of_work(self.database) as session:
                session.add_all(fresh)
                job = await repository.job(session, job_id)
                if job is None:
                    raise RuntimeError("the job is gone")
                job.chunks_done += len(part)
                job.chunks_reused += len(part) - len(fresh)
        await self._go_live(work)

    async def _start(self, job_id: uuid.UUID) -> _Work:
        """The job's chunks and payload; its counters reset to (total, 0 done, 0 reused)."""
        async with unit_of_work(self.database) as session:
            found = await repository.job_with_version(session, job_id)
            if found is None:
                raise RuntimeError("the job's document or version is gone")
            job, version, document = found
            chunks = chunk_sections(
                version.id, version.sections, self.settings.chunk_size, self.settings.chunk_overlap
            )
            job.chunks_total = len(chunks)
            job.chunks_done = 0
            job.chunks_reused = 0
            payload = {
                "document_id": str(document.id),
                "version_key": version.key,
                "version": version.number,
                "title": document.title,
                "teams": list(document.teams),
                "process": document.process or "",
                "language": document.language,
            }
            return _Work(job.id, document.language, chunks, payload)

    async def _vectors(self, chunks: list[Chunk]) -> tuple[np.ndarray, list[ChunkEmbedding]]:
        """The chunks' vectors (rows in order), and the cache rows of those embedded anew; the
        cache is read in its own read-only session and the embedding runs outside any."""
        model = self.embedder.model
        hashes = [_hash(c.embedding_text()) for c in chunks]
        async with self.database.reading() as session:
            cached = {
                row.text_hash: np.frombuffer(row.vector, dtype=np.float32)
                for row in await repository.cached_vectors(session, hashes, model)
            }
        missing = [i for i, h in enumerate(hashes) if h not in cached]
        fresh: list[ChunkEmbedding] = []
        if missing:
            vectors = await embed_in_steps(
                self.embedder.embed_passages, [chunks[i].embedding_text() for i in missing]
            )
            for i, vector in zip(missing, vectors, strict=True):
                if hashes[i] not in cached:
                    fresh.append(
                        ChunkEmbedding(
                            text_hash=hashes[i],
                            model=model,
                            vector=vector.astype(np.float32).tobytes(),
                        )
                    )
                cached[hashes[i]] = vector
        return np.stack([cached[h] for h in hashes]), fresh

    @staticmethod
    def _indexed(
        chunk: Chunk, vector: np.ndarray, base: dict[str, Any], language: str
    ) -> IndexedChunk:
        payload = {
            **base,
            "chunk_id": chunk.id,
            "ordinal": chunk.ordinal,
            "section": chunk.section,
            "start": chunk.start,
            "end": chunk.end,
            "text": chunk.text,
        }
        return IndexedChunk(
            chunk.id, vector.tolist(), document_vector(chunk.embedding_text(), language), payload
        )

    async def _go_live(self, work: _Work) -> None:
        """The swap, in one transaction: after it, queries see the new version and only it."""
        async with unit_of_work(self.database) as session:
            found = await repository.job_with_version(session, work.job_id)
            if found is None:
                raise RuntimeError("the job's document or version is gone")
            job, version, document = found
            now = utcnow()
            await repository.retire_live_version(session, document.id, now)
            version.status = VersionStatus.live.value
            version.live_at = now
            version.chunk_count = len(work.chunks)
            document.live_version = version.number
            document.version_label = version.label
            document.chunk_count = len(work.chunks)
            document.updated_at = now
            job.status = JobStatus.completed.value
            job.finished_at = now

    # -- clean-up --
    async def purge(self) -> int:
        """Delete the index chunks of retired and failed versions whose grace period
        (`retired_grace_seconds`) is over; returns how many versions were purged."""
        cutoff = utcnow() - timedelta(seconds=self.settings.retired_grace_seconds)
        async with unit_of_work(self.database) as session:
            stale = await repository.versions_to_purge(session, cutoff)
            for version in stale:
                await self.index.delete_version(version.key)
                version.status = VersionStatus.purged.value
                version.sections = []
            return len(stale)


@asynccontextmanager
async def ingestor_running(app: FastAPI) -> AsyncIterator[None]:
    """Make the app's Ingestor (`app.state.ingestor`) and, unless `ingest_worker_enabled` is
    off, run it in the background for the body of the `async with` (kit.worker.workers_running
    stops it on exit, waiting at most for the embedding step running)."""
    ingestor = Ingestor(app.state.database, app.state.index, app.state.embedder, app.state.settings)
    app.state.ingestor = ingestor
    enabled = app.state.settings.ingest_worker_enabled
    async with workers_running({"ingestion-worker": ingestor.run_forever if enabled else None}):
        yield
