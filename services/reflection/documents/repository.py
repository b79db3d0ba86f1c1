"""Every query on documents, versions, ingestion jobs and cached chunk vectors.

Functions flush, never commit: the caller's session owns the transaction (the request's
session for routes, a unit of work for the ingestion worker).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.personal import ERASED
from services.reflection.documents.models import (
    ChunkEmbedding,
    Document,
    DocumentVersion,
    IngestJob,
    JobStatus,
    VersionStatus,
)


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def document(session: AsyncSession, document_id: uuid.UUID) -> Document | None:
    """The document with that id, or None when there is none."""
    return await session.get(Document, document_id)


async def documents_among(session: AsyncSession, ids: list[uuid.UUID]) -> Sequence[Document]:
    """Those of the documents `ids` that exist, in no particular order; one query."""
    return (await session.exec(select(Document).where(col(Document.id).in_(ids)))).all()


async def made_or_owned_by(session: AsyncSession, subject: str) -> Sequence[Document]:
    """The documents `subject` uploaded (`created_by`) or owns (`owner`), in no particular
    order."""
    query = select(Document).where(
        (col(Document.created_by) == subject) | (col(Document.owner) == subject)
    )
    return (await session.exec(query)).all()


async def forget_person(session: AsyncSession, subject: str) -> None:
    """Erase `subject` from documents and jobs (GDPR article 17): documents and jobs they made
    are marked made by ERASED, documents they own lose their owner; the rows stay, because
    documents belong to the organisation."""
    await session.exec(
        update(Document).where(col(Document.created_by) == subject).values(created_by=ERASED)
    )
    await session.exec(update(Document).where(col(Document.owner) == subject).values(owner=None))
    await session.exec(
        update(IngestJob).where(col(IngestJob.created_by) == subject).values(created_by=ERASED)
    )


async def job(session: AsyncSession, job_id: uuid.UUID) -> IngestJob | None:
    """The ingestion job with that id, or None when there is none."""
    return await session.get(IngestJob, job_id)


async def versions_of(session: AsyncSession, document_id: uuid.UUID) -> Sequence[DocumentVersion]:
    """Every version of one document, in no particular order."""
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    return (await session.exec(query)).all()


async def next_version_number(session: AsyncSession, document_id: uuid.UUID) -> int:
    """1 for a document without versions, else one above its highest version number."""
    highest = select(func.coalesce(func.max(DocumentVersion.number), 0)).where(
        DocumentVersion.document_id == document_id
    )
    return int((await session.exec(highest)).one()) + 1


async def documents_after(
    session: AsyncSession,
    *,
    live_only: bool,
    process: str | None,
    ids: list[uuid.UUID],
    after: uuid.UUID | None,
) -> Sequence[Document]:
    """Documents ordered by id, after `after` when given, narrowed to live ones, one process
    and `ids` when asked; visibility by team is the caller's filter (a JSON list)."""
    statement = select(Document)
    if live_only:
        statement = statement.where(col(Document.live_version).is_not(None))
    if process:
        statement = statement.where(Document.process == process)
    if ids:
        statement = statement.where(col(Document.id).in_(ids))
    if after is not None:
        statement = statement.where(col(Document.id) > after)
    return (await session.exec(statement.order_by(col(Document.id)))).all()


async def delete_document(session: AsyncSession, document: Document) -> None:
    """Delete the document's jobs and versions, then the document itself (flushed in that order
    so foreign keys hold)."""
    for table in (IngestJob, DocumentVersion):
        rows = (await session.exec(select(table).where(table.document_id == document.id))).all()
        for row in rows:
            await session.delete(row)
    await session.flush()
    await session.delete(document)
    await session.flush()


async def job_with_version(
    session: AsyncSession, job_id: uuid.UUID
) -> tuple[IngestJob, DocumentVersion, Document] | None:
    """The job, the version it ingests and that version's document; None when one is gone."""
    job = await session.get(IngestJob, job_id)
    if job is None or job.version_id is None:
        return None
    version = await session.get(DocumentVersion, job.version_id)
    document = await session.get(Document, job.document_id)
    if version is None or document is None:
        return None
    return job, version, document


async def running_jobs(session: AsyncSession, started_before: datetime) -> Sequence[IngestJob]:
    """Jobs marked running. On PostgreSQL, where several replicas may work, only those that
    started before `started_before` (or never recorded a start); on SQLite one process owns the
    index (Edge), so every running job is its own."""
    query = select(IngestJob).where(IngestJob.status == JobStatus.running)
    if _postgresql(session):
        query = query.where(
            or_(col(IngestJob.started_at).is_(None), col(IngestJob.started_at) < started_before)
        )
    return (await session.exec(query)).all()


async def oldest_queued_job(session: AsyncSession) -> IngestJob | None:
    """The oldest queued job, locked for this transaction: on PostgreSQL a job another replica
    is claiming is skipped (`FOR UPDATE SKIP LOCKED`); SQLite serialises writers anyway."""
    query = (
        select(IngestJob)
        .where(IngestJob.status == JobStatus.queued)
        .order_by(col(IngestJob.created_at))
        .limit(1)
    )
    if _postgresql(session):
        query = query.with_for_update(skip_locked=True)
    return (await session.exec(query)).first()


async def mark_version(
    session: AsyncSession, version_id: uuid.UUID, status: VersionStatus, retired_at: datetime
) -> None:
    """Set one version's status and the moment it stopped being live."""
    await session.exec(
        update(DocumentVersion)
        .where(col(DocumentVersion.id) == version_id)
        .values(status=status.value, retired_at=retired_at)
    )


async def retire_live_version(session: AsyncSession, document_id: uuid.UUID, at: datetime) -> None:
    """Mark the document's live version (if any) retired as of `at`."""
    await session.exec(
        update(DocumentVersion)
        .where(
            col(DocumentVersion.document_id) == document_id,
            col(DocumentVersion.status) == VersionStatus.live.value,
        )
        .values(status=VersionStatus.retired.value, retired_at=at)
    )


async def cached_vectors(
    session: AsyncSession, text_hashes: list[str], model: str
) -> Sequence[ChunkEmbedding]:
    """The cached vectors of `model` for those chunk-text hashes that have one."""
    query = select(ChunkEmbedding).where(
        col(ChunkEmbedding.text_hash).in_(text_hashes), ChunkEmbedding.model == model
    )
    return (await session.exec(query)).all()


async def versions_to_purge(session: AsyncSession, cutoff: datetime) -> Sequence[DocumentVersion]:
    """Retired and failed versions that stopped being live at or before `cutoff`."""
    query = select(DocumentVersion).where(
        col(DocumentVersion.status).in_([VersionStatus.retired.value, VersionStatus.failed.value]),
        col(DocumentVersion.retired_at) <= cutoff,
    )
    return (await session.exec(query)).all()
