"""Domain rules for documents: who sees them, how an upload becomes a version and a job."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import utcnow
from kit.errors import NotFound, Unprocessable, UnsupportedMediaType
from services.reflection.access import can_read
from services.reflection.index.base import EVERYONE
from services.reflection.ingest.parsers import Unreadable, Unsupported, media_type, parse
from services.reflection.language import detect
from services.reflection.models import (
    Document,
    DocumentPublic,
    DocumentVersion,
    IngestJob,
    JobPublic,
    JobStatus,
    VersionStatus,
)

_KEY = "[a-z0-9][a-z0-9-]{0,63}"
_TEAM = re.compile(rf"^{_KEY}$")
# The grammar parse_teams accepts for the upload form's `teams` field, declared in the OpenAPI
# document: empty or `*` (everyone), or team keys separated by commas (spaces around them and
# empty items between them are ignored). A form field is text: `false` is a well-formed team key.
TEAMS_PATTERN = rf"^\s*(\*?|[\s,]*{_KEY}(\s*,[\s,]*{_KEY})*[\s,]*)\s*$"
LANGUAGES = ("nl", "en")


class DocumentNotFound(NotFound):
    code = "document_not_found"


def parse_teams(value: str | None) -> list[str]:
    """The team keys an upload's `teams` form field names, sorted, or `["*"]` for everyone.

    Raises Unprocessable (422 `invalid_teams`, the malformed items in `details`) for a value
    outside TEAMS_PATTERN, the grammar the OpenAPI document declares (tests check they agree)."""
    if value is None or value.strip() in ("", EVERYONE):
        return [EVERYONE]
    teams = sorted({t.strip() for t in value.split(",") if t.strip()})
    bad = [t for t in teams if not _TEAM.match(t)]
    if bad or not teams:
        raise Unprocessable(
            "teams is `*` or a comma-separated list of team keys", code="invalid_teams", details=bad
        )
    return teams


def public(document: Document) -> DocumentPublic:
    return DocumentPublic(
        id=document.id,
        title=document.title,
        process=document.process,
        owner=document.owner,
        language=document.language,
        teams=list(document.teams),
        version=document.live_version,
        version_label=document.version_label,
        chunk_count=document.chunk_count,
        created_at=document.created_at,
        updated_at=document.updated_at,
    )


def job_public(job: IngestJob) -> JobPublic:
    finished = job.status in (JobStatus.completed, JobStatus.unchanged)
    progress = (
        1.0 if finished else (job.chunks_done / job.chunks_total if job.chunks_total else 0.0)
    )
    return JobPublic(
        id=job.id,
        document_id=job.document_id,
        status=JobStatus(job.status),
        progress=round(progress, 4),
        chunks_total=job.chunks_total,
        chunks_done=job.chunks_done,
        chunks_reused=job.chunks_reused,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


async def visible_document(
    session: AsyncSession, document_id: uuid.UUID, principal: Principal
) -> Document:
    """404 — never 403 — for a document the caller may not read (access.can_read): its
    existence stays secret."""
    document = await session.get(Document, document_id)
    if document is None or not can_read(document, principal):
        raise DocumentNotFound("no such document")
    return document


async def read_sections(
    data: bytes, filename: str, declared: str | None
) -> tuple[str, list[dict[str, object]]]:
    try:
        kind = media_type(data, filename, declared)  # by the bytes, not the claims
    except Unsupported as exc:
        raise UnsupportedMediaType(str(exc), code="unsupported_media_type") from exc
    try:
        sections = await asyncio.to_thread(parse, data, kind)
    except Unreadable as exc:
        raise Unprocessable(str(exc), code="unreadable_file") from exc
    return kind, [s.as_dict() for s in sections]


async def add_version(
    session: AsyncSession,
    principal: Principal,
    document: Document,
    data: bytes,
    filename: str,
    kind: str,
    sections: list[dict[str, object]],
    label: str | None,
) -> IngestJob:
    """A new staged version and its job; the same bytes as the live version change nothing."""
    content_hash = hashlib.sha256(data).hexdigest()
    versions = (
        await session.exec(
            select(DocumentVersion).where(DocumentVersion.document_id == document.id)
        )
    ).all()
    live = next((v for v in versions if v.status == VersionStatus.live), None)
    if live is not None and live.content_hash == content_hash:
        now = utcnow()
        job = IngestJob(
            document_id=document.id,
            version_id=live.id,
            status=JobStatus.unchanged.value,
            chunks_total=live.chunk_count,
            chunks_done=live.chunk_count,
            chunks_reused=live.chunk_count,
            created_by=principal.subject,
            started_at=now,
            finished_at=now,
        )
        session.add(job)
        await session.flush()
        return job
    number = (
        await session.exec(
            select(func.coalesce(func.max(DocumentVersion.number), 0)).where(
                DocumentVersion.document_id == document.id
            )
        )
    ).one() + 1
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        label=label,
        content_hash=content_hash,
        media_type=kind,
        filename=filename[:300],
        size=len(data),
        sections=sections,
    )
    session.add(version)
    await session.flush()
    job = IngestJob(document_id=document.id, version_id=version.id, created_by=principal.subject)
    session.add(job)
    await session.flush()
    return job


def choose_language(given: str | None, sections: list[dict[str, object]]) -> str:
    if given:
        if given not in LANGUAGES:
            raise Unprocessable(
                f"language is one of {', '.join(LANGUAGES)}", code="invalid_language"
            )
        return given
    sample = " ".join(str(s["text"]) for s in sections)[:20000]
    return detect(sample) or "nl"


async def list_documents(
    session: AsyncSession,
    principal: Principal,
    process: str | None,
    ids: list[uuid.UUID],
    limit: int,
    after: uuid.UUID | None,
) -> tuple[list[Document], str | None]:
    statement = select(Document)
    if not principal.is_admin:
        statement = statement.where(col(Document.live_version).is_not(None))
    if process:
        statement = statement.where(Document.process == process)
    if ids:
        statement = statement.where(col(Document.id).in_(ids))
    if after is not None:
        statement = statement.where(col(Document.id) > after)
    # Visibility is a JSON list, filtered here; a page is refilled until it is full.
    found: list[Document] = []
    for document in (await session.exec(statement.order_by(col(Document.id)))).all():
        if can_read(document, principal):
            found.append(document)
            if len(found) > limit:
                break
    next_cursor = str(found[limit - 1].id) if len(found) > limit else None
    return found[:limit], next_cursor


async def delete_rows(session: AsyncSession, document: Document) -> None:
    for table in (IngestJob, DocumentVersion):
        rows = (await session.exec(select(table).where(table.document_id == document.id))).all()
        for row in rows:
            await session.delete(row)
    await session.flush()
    await session.delete(document)
    await session.flush()
