"""Domain rules for documents: who sees them, how an upload becomes a version and a job, and how
the API presents them. Queries live in repository.py; the caller's session owns the transaction."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.cursors import KeysetCursor
from kit.db import utcnow
from kit.errors import NotFound, Unprocessable, UnsupportedMediaType
from services.reflection.access import can_read
from services.reflection.documents import repository
from services.reflection.documents.models import (
    Document,
    DocumentPage,
    DocumentPublic,
    DocumentVersion,
    IngestJob,
    JobPublic,
    JobStatus,
    VersionStatus,
)
from services.reflection.documents.parsing import Unreadable, Unsupported, media_type, parse
from services.reflection.index.base import EVERYONE, VectorIndex
from services.reflection.language import detect

_KEY = "[a-z0-9][a-z0-9-]{0,63}"
_TEAM = re.compile(rf"^{_KEY}$")
# The grammar parse_teams accepts for the upload form's `teams` field, declared in the OpenAPI
# document: empty or `*` (everyone), or team keys separated by commas (spaces around them and
# empty items between them are ignored). A form field is text: `false` is a well-formed team key.
TEAMS_PATTERN = rf"^\s*(\*?|[\s,]*{_KEY}(\s*,[\s,]*{_KEY})*[\s,]*)\s*$"
LANGUAGES = ("nl", "en")


# A bad cursor answers as it did when the cursor was a document id checked by FastAPI: 400
# `invalid_parameter` naming `cursor`, details shaped like a validation error's.
CURSOR = KeysetCursor(
    message="invalid parameter: cursor",
    code="invalid_parameter",
    details=[
        {
            "location": ["query", "cursor"],
            "message": "the cursor is not one this list handed out",
            "type": "invalid_cursor",
            "parameter": "cursor",
        }
    ],
)


class DocumentNotFound(NotFound):
    """404 `document_not_found`: no such document, or one the caller may not read."""

    code = "document_not_found"


class JobNotFound(NotFound):
    """404 `job_not_found`: no ingestion job with this id."""

    code = "job_not_found"


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
    """The API shape of a document; `version` is its live version number (None until live)."""
    return DocumentPublic.model_validate(
        {**document.model_dump(), "version": document.live_version}
    )


def job_public(job: IngestJob) -> JobPublic:
    """The API shape of a job; `progress` is chunks done / total, 0 to 1 (1 once finished)."""
    finished = job.status in (JobStatus.completed, JobStatus.unchanged)
    progress = (
        1.0 if finished else (job.chunks_done / job.chunks_total if job.chunks_total else 0.0)
    )
    return JobPublic.model_validate({**job.model_dump(), "progress": round(progress, 4)})


async def visible_document(
    session: AsyncSession, document_id: uuid.UUID, principal: Principal
) -> Document:
    """404 — never 403 — for a document the caller may not read (access.can_read): its
    existence stays secret. Raises DocumentNotFound (404 `document_not_found`)."""
    document = await repository.document(session, document_id)
    if document is None or not can_read(document, principal):
        raise DocumentNotFound("no such document")
    return document


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> IngestJob:
    """The ingestion job. Raises JobNotFound (404 `job_not_found`) when there is none."""
    job = await repository.job(session, job_id)
    if job is None:
        raise JobNotFound("no such job")
    return job


@dataclass(frozen=True)
class Upload:
    """An uploaded file, parsed: its bytes, name, recognised media type, sections (dicts of
    `text`, `heading path` and offsets) and the version label the uploader gave."""

    data: bytes
    filename: str
    kind: str
    sections: list[dict[str, object]]
    label: str | None


async def read_upload(
    data: bytes, filename: str, declared: str | None, label: str | None
) -> Upload:
    """The upload's media type (recognised by its bytes) and its sections as dicts, parsed in a
    worker thread — call it before the first write, so no write lock waits on the parse.

    Raises UnsupportedMediaType (415 `unsupported_media_type`) for a kind we do not parse and
    Unprocessable (422 `unreadable_file`) when the parser fails on the bytes."""
    try:
        kind = media_type(data, filename, declared)  # by the bytes, not the claims
    except Unsupported as exc:
        raise UnsupportedMediaType(str(exc), code="unsupported_media_type") from exc
    try:
        sections = await asyncio.to_thread(parse, data, kind)
    except Unreadable as exc:
        raise Unprocessable(str(exc), code="unreadable_file") from exc
    return Upload(data, filename, kind, [s.as_dict() for s in sections], label)


async def add_version(
    session: AsyncSession, principal: Principal, document: Document, upload: Upload
) -> IngestJob:
    """A new staged version and its queued job, flushed. The same bytes as the live version
    (SHA-256) change nothing: the job is then `unchanged` and points at the live version."""
    content_hash = hashlib.sha256(upload.data).hexdigest()
    versions = await repository.versions_of(session, document.id)
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
    number = await repository.next_version_number(session, document.id)
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        label=upload.label,
        content_hash=content_hash,
        media_type=upload.kind,
        filename=upload.filename[:300],
        size=len(upload.data),
        sections=upload.sections,
    )
    session.add(version)
    await session.flush()
    job = IngestJob(document_id=document.id, version_id=version.id, created_by=principal.subject)
    session.add(job)
    await session.flush()
    return job


def choose_language(given: str | None, sections: list[dict[str, object]]) -> str:
    """`given`, or the language detected in the first 20,000 characters (`nl` when unclear).

    Raises Unprocessable (422 `invalid_language`) for a language other than LANGUAGES."""
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
    cursor: str | None,
) -> DocumentPage:
    """Up to `limit` documents the caller may read (access.can_read), ordered by id after
    `cursor`, with a cursor per item and the one to continue with (null on the last page).
    Non-admins see only documents with a live version. Raises InvalidCursor (400
    `invalid_parameter` naming `cursor`) for a cursor this list did not hand out."""
    after = CURSOR.decode(cursor, (uuid.UUID,))[0] if cursor is not None else None
    found: list[Document] = []
    rows = await repository.documents_after(
        session, live_only=not principal.is_admin, process=process, ids=ids, after=after
    )
    # Visibility is a JSON list, filtered here; a page is refilled until it is full.
    for document in rows:
        if can_read(document, principal):
            found.append(document)
            if len(found) > limit:
                break
    cursors = [CURSOR.encode((document.id,)) for document in found[:limit]]
    return DocumentPage(
        items=[public(document) for document in found[:limit]],
        cursors=cursors,
        next_cursor=cursors[-1] if len(found) > limit else None,
    )


async def create_document(
    session: AsyncSession,
    principal: Principal,
    upload: Upload,
    *,
    title: str,
    process: str | None,
    owner: str | None,
    language: str | None,
    teams: list[str],
) -> tuple[Document, IngestJob]:
    """A new document with its first (staged) version and queued job, flushed.

    Raises Unprocessable (422 `invalid_language`) for a language other than LANGUAGES."""
    document = Document(
        title=title.strip(),
        process=process,
        owner=owner,
        language=choose_language(language, upload.sections),
        teams=teams,
        created_by=principal.subject,
    )
    session.add(document)
    await session.flush()
    return document, await add_version(session, principal, document, upload)


async def delete_document(session: AsyncSession, index: VectorIndex, document: Document) -> None:
    """Remove every chunk of every version from the index, then the document's rows (flushed)."""
    await index.delete_document(str(document.id))
    await repository.delete_document(session, document)
