"""The ingestion worker: runs jobs in the background, one at a time, and swaps versions.

A job chunks a staged version, embeds what is not cached (batched, off the event loop), writes
the chunks to the index — still hidden, because their version is `staged` — and then makes the
version live in one SQL transaction, retiring the previous one. Queries exclude hidden versions
inside the index query, so no query sees two versions of a document or none: the old chunks are
deleted only after a grace period, long after any query that could still want them.

Jobs live in the database: after a restart, jobs that were running are queued again (their
chunk ids are stable, so a re-run overwrites) and given up, clearly, after three attempts.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

import numpy as np
from fastapi import FastAPI
from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import Database, utcnow
from kit.text import safe_for_output
from services.reflection.embeddings import Embedder
from services.reflection.index.base import IndexedChunk, VectorIndex
from services.reflection.index.sparse import document_vector
from services.reflection.ingest.chunking import Chunk, chunk_sections
from services.reflection.models import (
    ChunkEmbedding,
    Document,
    DocumentVersion,
    IngestJob,
    JobStatus,
    VersionStatus,
)
from services.reflection.settings import ReflectionSettings

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Ingestor:
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
        # Time spent inside the embedder, for the ingestion benchmark.
        self.embedding_seconds = 0.0

    # -- lifecycle --
    async def recover(self) -> None:
        """Jobs left running by a process that died are queued again. On PostgreSQL, where
        several replicas may work, a job is only taken over once it has run longer than any job
        should (another replica may still be working on a younger one)."""
        stale = utcnow() - timedelta(minutes=self.settings.ingest_stale_minutes)
        async with self.database.sessions() as session:
            query = select(IngestJob).where(IngestJob.status == JobStatus.running)
            if session.get_bind().dialect.name == "postgresql":
                # On SQLite one process owns the index (Edge): every running job is its own.
                query = query.where(
                    or_(col(IngestJob.started_at).is_(None), col(IngestJob.started_at) < stale)
                )
            running = (await session.exec(query)).all()
            for job in running:
                job.status = JobStatus.queued.value
                log.warning("ingestion job resumed after a restart", extra={"job": str(job.id)})
            await session.commit()

    async def run_forever(self) -> None:
        await self.recover()
        while True:
            try:
                worked = await self.run_once()
                await self.purge()
            except Exception:
                log.exception("ingestion round failed")
                worked = False
            if not worked:
                self.wake.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.settings.ingest_poll_seconds)

    async def run_once(self) -> bool:
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
        """The oldest queued job, for this replica alone: on PostgreSQL a job another replica is
        claiming is skipped (`FOR UPDATE SKIP LOCKED`); SQLite serialises writers anyway."""
        async with self.database.sessions() as session:
            query = (
                select(IngestJob)
                .where(IngestJob.status == JobStatus.queued)
                .order_by(col(IngestJob.created_at))
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            job = (await session.exec(query)).first()
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                job.status = JobStatus.failed.value
                job.error = f"gave up after {MAX_ATTEMPTS} attempts (the service restarted mid-job)"
                job.finished_at = utcnow()
                await session.commit()
                return None
            job.status = JobStatus.running.value
            job.attempts += 1
            job.started_at = utcnow()
            await session.commit()
            return job.id

    async def _fail(self, job_id: uuid.UUID, error: str) -> None:
        async with self.database.sessions() as session:
            job = await session.get(IngestJob, job_id)
            if job is None:
                return
            job.status = JobStatus.failed.value
            job.error = error
            job.finished_at = utcnow()
            if job.version_id:
                await session.exec(
                    update(DocumentVersion)
                    .where(col(DocumentVersion.id) == job.version_id)
                    .values(status=VersionStatus.failed.value, retired_at=utcnow())
                )
            await session.commit()

    # -- one job --
    async def _process(self, job_id: uuid.UUID) -> None:
        async with self.database.sessions() as session:
            job = await session.get(IngestJob, job_id)
            version = await session.get(DocumentVersion, job.version_id) if job else None
            document = await session.get(Document, job.document_id) if job else None
            if job is None or version is None or document is None:
                raise RuntimeError("the job's document or version is gone")
            chunks = chunk_sections(
                version.id, version.sections, self.settings.chunk_size, self.settings.chunk_overlap
            )
            job.chunks_total = len(chunks)
            job.chunks_done = 0
            job.chunks_reused = 0
            await session.commit()
            payload = {
                "document_id": str(document.id),
                "version_key": version.key,
                "version": version.number,
                "title": document.title,
                "teams": list(document.teams),
                "process": document.process or "",
                "language": document.language,
            }
            batch = self.settings.embed_batch_size
            for first in range(0, len(chunks), batch):
                part = chunks[first : first + batch]
                vectors, reused = await self._vectors(session, part)
                await self.index.upsert(
                    [
                        self._indexed(c, v, payload, document.language)
                        for c, v in zip(part, vectors, strict=True)
                    ]
                )
                job.chunks_done += len(part)
                job.chunks_reused += reused
                await session.commit()
            await self._go_live(session, job, version, document, len(chunks))

    async def _vectors(self, session: AsyncSession, chunks: list[Chunk]) -> tuple[np.ndarray, int]:
        model = self.embedder.model
        hashes = [_hash(c.embedding_text()) for c in chunks]
        cached = {
            row.text_hash: np.frombuffer(row.vector, dtype=np.float32)
            for row in (
                await session.exec(
                    select(ChunkEmbedding).where(
                        col(ChunkEmbedding.text_hash).in_(hashes), ChunkEmbedding.model == model
                    )
                )
            ).all()
        }
        missing = [i for i, h in enumerate(hashes) if h not in cached]
        # End the transaction before the slow part: nobody waits on the database meanwhile.
        await session.commit()
        if missing:
            started = asyncio.get_running_loop().time()
            fresh = await self.embedder.embed_passages(
                [chunks[i].embedding_text() for i in missing]
            )
            self.embedding_seconds += asyncio.get_running_loop().time() - started
            for i, vector in zip(missing, fresh, strict=True):
                if hashes[i] not in cached:
                    session.add(
                        ChunkEmbedding(
                            text_hash=hashes[i],
                            model=model,
                            vector=vector.astype(np.float32).tobytes(),
                        )
                    )
                cached[hashes[i]] = vector
        return np.stack([cached[h] for h in hashes]), len(chunks) - len(missing)

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

    async def _go_live(
        self,
        session: AsyncSession,
        job: IngestJob,
        version: DocumentVersion,
        document: Document,
        chunk_count: int,
    ) -> None:
        """The swap, in one transaction: after it, queries see the new version and only it."""
        now = utcnow()
        await session.exec(
            update(DocumentVersion)
            .where(
                col(DocumentVersion.document_id) == document.id,
                col(DocumentVersion.status) == VersionStatus.live.value,
            )
            .values(status=VersionStatus.retired.value, retired_at=now)
        )
        version.status = VersionStatus.live.value
        version.live_at = now
        version.chunk_count = chunk_count
        document.live_version = version.number
        document.version_label = version.label
        document.chunk_count = chunk_count
        document.updated_at = now
        job.status = JobStatus.completed.value
        job.finished_at = now
        await session.commit()

    # -- clean-up --
    async def purge(self) -> int:
        """Delete chunks of retired and failed versions once their grace period is over."""
        cutoff = utcnow() - timedelta(seconds=self.settings.retired_grace_seconds)
        async with self.database.sessions() as session:
            stale = (
                await session.exec(
                    select(DocumentVersion).where(
                        col(DocumentVersion.status).in_(
                            [VersionStatus.retired.value, VersionStatus.failed.value]
                        ),
                        col(DocumentVersion.retired_at) <= cutoff,
                    )
                )
            ).all()
            for version in stale:
                await self.index.delete_version(version.key)
                version.status = VersionStatus.purged.value
                version.sections = []
            await session.commit()
            return len(stale)


@asynccontextmanager
async def ingestor_running(app: FastAPI) -> AsyncIterator[None]:
    ingestor = Ingestor(app.state.database, app.state.index, app.state.embedder, app.state.settings)
    app.state.ingestor = ingestor
    task = None
    if app.state.settings.ingest_worker_enabled:
        task = asyncio.create_task(ingestor.run_forever(), name="ingestion-worker")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
