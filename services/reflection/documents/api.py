"""REST routes for documents and their ingestion jobs: parse, call documents/service.py, present."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, Response, UploadFile

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from kit.errors import PayloadTooLarge
from services.reflection.documents import service as docs
from services.reflection.documents.models import (
    Document,
    DocumentPage,
    DocumentPublic,
    IngestJob,
    JobPublic,
    UploadAccepted,
)
from services.reflection.documents.uploads import FormText, VisibleFormText, upload_name

documents = APIRouter(prefix="/v1", tags=["documents"])
READ_CHUNK = 1 << 20


async def _read_limited(request: Request, upload: UploadFile) -> bytes:
    """The whole upload, or 413 as soon as it passes the limit (never read to the end)."""
    limit = int(request.app.state.settings.max_upload_mb * 1024 * 1024)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(f"uploads are limited to {limit} bytes", details={"limit": limit})
    data = bytearray()
    while chunk := await upload.read(READ_CHUNK):
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"uploads are limited to {limit} bytes", details={"limit": limit})
    return bytes(data)


def _accepted(
    request: Request, tasks: BackgroundTasks, document: Document, job: IngestJob
) -> UploadAccepted:
    # The worker is woken after the response, i.e. after the transaction committed.
    tasks.add_task(request.app.state.ingestor.wake.set)
    return UploadAccepted(document=docs.public(document), job=docs.job_public(job))


# Upload metadata is text people read: the one text rule (kit/text.py) applies as to JSON, and
# control characters (a field that was not UTF-8 arrives with them) are refused (uploads.py).
Title = Annotated[VisibleFormText, Form(min_length=1, max_length=300)]
OptionalField = Annotated[VisibleFormText | None, Form(max_length=200)]
# Both uploads answer 202 at once: the job ingests in the background.
UPLOAD: dict[str, Any] = {
    "status_code": 202,
    "response_model": UploadAccepted,
    "dependencies": [require_roles(Role.admin)],
}


@documents.post(
    "/documents",
    **UPLOAD,
    summary="Upload a process document (admins); it becomes searchable when its job completes",
    responses={413: {"description": "too large"}, 415: {"description": "unsupported type"}},
)
async def upload_document(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    tasks: BackgroundTasks,
    file: Annotated[
        UploadFile,
        File(description="Markdown, plain text (UTF-8), HTML or PDF, recognised by its bytes"),
    ],
    title: Title,
    process: OptionalField = None,
    owner: OptionalField = None,
    language: Annotated[
        FormText | None, Form(description="nl or en; detected when left out")
    ] = None,
    version: Annotated[VisibleFormText | None, Form(max_length=50)] = None,
    teams: Annotated[
        FormText | None,
        Form(
            description="`*` (default) or team keys, comma-separated",
            json_schema_extra={"pattern": docs.TEAMS_PATTERN},
        ),
    ] = None,
) -> UploadAccepted:
    """202 with the new document and its queued job. Raises 400 `invalid_text`, 413, 422
    `invalid_teams` / `invalid_language` / `unreadable_file`, 415 `unsupported_media_type`."""
    filename, declared = upload_name(file)
    data = await _read_limited(request, file)
    visible_to = docs.parse_teams(teams)
    # The parse runs before the session's first statement: no write lock waits on it.
    upload = await docs.read_upload(data, filename, declared, version)
    document, job = await docs.create_document(
        session,
        principal,
        upload,
        title=title,
        process=process,
        owner=owner,
        language=language,
        teams=visible_to,
    )
    return _accepted(request, tasks, document, job)


@documents.post(
    "/documents/{document_id}/versions",
    **UPLOAD,
    summary="Upload a new version; it replaces the live one atomically once ingested",
)
async def upload_version(
    document_id: uuid.UUID,
    request: Request,
    reads: ReadSessionDep,
    session: SessionDep,
    principal: PrincipalDep,
    tasks: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    version: Annotated[VisibleFormText | None, Form(max_length=50)] = None,
) -> UploadAccepted:
    """202 with the document and the new version's job. Raises 404 `document_not_found`, then
    as `upload_document` for the file."""
    # The 404 check reads without SQLite's write lock; the request's session starts writing only
    # after the parse, which may take seconds (docs/reflection.md, "Transactions").
    await docs.visible_document(reads, document_id, principal)
    filename, declared = upload_name(file)
    data = await _read_limited(request, file)
    upload = await docs.read_upload(data, filename, declared, version)
    document = await docs.visible_document(session, document_id, principal)
    job = await docs.add_version(session, principal, document, upload)
    return _accepted(request, tasks, document, job)


@documents.get("/documents", response_model=DocumentPage, summary="Documents you may read")
async def list_documents(
    session: SessionDep,
    principal: PrincipalDep,
    process: Annotated[str | None, Query(max_length=100)] = None,
    id: Annotated[list[uuid.UUID], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies it
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DocumentPage:
    """One page of readable documents, ordered by id; `cursor` is the `next_cursor` of the page
    before, or one of its `cursors`. Raises 400 `invalid_parameter` for a cursor this list did
    not hand out."""
    return await docs.list_documents(session, principal, process, id, limit, cursor)


@documents.get("/documents/{document_id}", response_model=DocumentPublic, summary="One document")
async def get_document(
    document_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> DocumentPublic:
    """The document. Raises 404 `document_not_found` when the caller may not read it."""
    return docs.public(await docs.visible_document(session, document_id, principal))


@documents.delete(
    "/documents/{document_id}",
    status_code=204,
    dependencies=[require_roles(Role.admin)],
    summary="Delete a document and every chunk of every version",
)
async def delete_document(
    document_id: uuid.UUID, request: Request, session: SessionDep, principal: PrincipalDep
) -> Response:
    """204 once its chunks and rows are gone. Raises 404 `document_not_found`."""
    document = await docs.visible_document(session, document_id, principal)
    await docs.delete_document(session, request.app.state.index, document)
    return Response(status_code=204)


@documents.get(
    "/jobs/{job_id}",
    response_model=JobPublic,
    dependencies=[require_roles(Role.admin)],
    summary="Progress of an ingestion job",
)
async def get_job(job_id: uuid.UUID, session: SessionDep) -> JobPublic:
    """The job's status and progress. Raises 404 `job_not_found`."""
    return docs.job_public(await docs.get_job(session, job_id))


@documents.post(
    "/index/optimize",
    status_code=204,
    dependencies=[require_roles(Role.admin)],
    summary="Build the vector index over new chunks (embedded mode: searches wait meanwhile)",
)
async def optimize_index(request: Request) -> Response:
    """204 once the index has built its vector structures over newly written chunks."""
    await request.app.state.index.optimize()
    return Response(status_code=204)
