"""REST routes of the reflection service: documents, ingestion jobs, search, embeddings."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kit.auth import PrincipalDep, Role, require_roles
from kit.db import ReadSessionDep, SessionDep
from kit.disconnect import until_disconnected
from kit.errors import NotFound, PayloadTooLarge
from kit.service_auth import require_service
from kit.text import StorableText
from services.reflection import documents as docs
from services.reflection.cancel import embed_in_steps, ensure_connected
from services.reflection.embeddings import Embedder
from services.reflection.gaps import record_gap
from services.reflection.models import (
    Document,
    DocumentPublic,
    IngestJob,
    JobPublic,
    SearchRequest,
    SearchResultWithGap,
    UploadAccepted,
)
from services.reflection.search import retrieve
from services.reflection.settings import ReflectionSettings
from services.reflection.uploads import FormText, VisibleFormText, upload_name

router = APIRouter(prefix="/v1", tags=["embeddings"])
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


def _wake(request: Request, tasks: BackgroundTasks) -> None:
    # Runs after the response, i.e. after the transaction committed.
    tasks.add_task(request.app.state.ingestor.wake.set)


# Upload metadata is text people read: the one text rule (kit/text.py) applies as to JSON, and
# control characters (a field that was not UTF-8 arrives with them) are refused (uploads.py).
Title = Annotated[VisibleFormText, Form(min_length=1, max_length=300)]
OptionalField = Annotated[VisibleFormText | None, Form(max_length=200)]


@documents.post(
    "/documents",
    status_code=202,
    response_model=UploadAccepted,
    dependencies=[require_roles(Role.admin)],
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
    filename, declared = upload_name(file)
    data = await _read_limited(request, file)
    visible_to = docs.parse_teams(teams)
    kind, sections = await docs.read_sections(data, filename, declared)
    document = Document(
        title=title.strip(),
        process=process,
        owner=owner,
        language=docs.choose_language(language, sections),
        teams=visible_to,
        created_by=principal.subject,
    )
    session.add(document)
    await session.flush()
    job = await docs.add_version(
        session, principal, document, data, filename, kind, sections, version
    )
    _wake(request, tasks)
    return UploadAccepted(document=docs.public(document), job=docs.job_public(job))


@documents.post(
    "/documents/{document_id}/versions",
    status_code=202,
    response_model=UploadAccepted,
    dependencies=[require_roles(Role.admin)],
    summary="Upload a new version; it replaces the live one atomically once ingested",
)
async def upload_version(
    document_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    tasks: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    version: Annotated[VisibleFormText | None, Form(max_length=50)] = None,
) -> UploadAccepted:
    document = await docs.visible_document(session, document_id, principal)
    filename, declared = upload_name(file)
    data = await _read_limited(request, file)
    kind, sections = await docs.read_sections(data, filename, declared)
    job = await docs.add_version(
        session, principal, document, data, filename, kind, sections, version
    )
    _wake(request, tasks)
    return UploadAccepted(document=docs.public(document), job=docs.job_public(job))


class DocumentPage(BaseModel):
    items: list[DocumentPublic]
    next_cursor: str | None


@documents.get("/documents", response_model=DocumentPage, summary="Documents you may read")
async def list_documents(
    session: SessionDep,
    principal: PrincipalDep,
    process: Annotated[str | None, Query(max_length=100)] = None,
    id: Annotated[list[uuid.UUID], Query(max_length=100)] = [],  # noqa: B006 - FastAPI copies it
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: uuid.UUID | None = None,
) -> DocumentPage:
    found, next_cursor = await docs.list_documents(session, principal, process, id, limit, cursor)
    return DocumentPage(items=[docs.public(d) for d in found], next_cursor=next_cursor)


@documents.get("/documents/{document_id}", response_model=DocumentPublic, summary="One document")
async def get_document(
    document_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> DocumentPublic:
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
    document = await docs.visible_document(session, document_id, principal)
    await request.app.state.index.delete_document(str(document.id))
    await docs.delete_rows(session, document)
    return Response(status_code=204)


@documents.get(
    "/jobs/{job_id}",
    response_model=JobPublic,
    dependencies=[require_roles(Role.admin)],
    summary="Progress of an ingestion job",
)
async def get_job(job_id: uuid.UUID, session: SessionDep) -> JobPublic:
    job = await session.get(IngestJob, job_id)
    if job is None:
        raise NotFound("no such job", code="job_not_found")
    return docs.job_public(job)


@documents.post(
    "/index/optimize",
    status_code=204,
    dependencies=[require_roles(Role.admin)],
    summary="Build the vector index over new chunks (embedded mode: searches wait meanwhile)",
)
async def optimize_index(request: Request) -> Response:
    await request.app.state.index.optimize()
    return Response(status_code=204)


@documents.post(
    "/search", response_model=SearchResultWithGap, summary="Hybrid search with citations"
)
async def search_documents(
    body: SearchRequest, request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> SearchResultWithGap:
    state = request.app.state
    await ensure_connected(request)  # a caller who gave up costs no embedding
    hits, relevance = await until_disconnected(
        request, retrieve(session, state.index, state.embedder, principal, body)
    )
    gap = relevance < state.settings.gap_threshold
    if gap:
        processes = body.filters.process
        await record_gap(
            state.database,
            state.pseudonym_key,
            process=processes[0] if len(processes) == 1 else None,
            question=body.query,
            source="search",
            who=principal.subject,
        )
    return SearchResultWithGap(hits=hits, relevance=round(relevance, 4), gap=gap)


# Outer bounds of the request shape; the settings' caps (smaller) are checked in the route.
EmbeddingText = Annotated[StorableText, StringConstraints(min_length=1, max_length=100_000)]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[EmbeddingText] = Field(min_length=1, max_length=1000)
    kind: Literal["query", "passage"] = Field(
        description="`query` for what someone searches with, `passage` for what is searched."
    )


class EmbeddingResponse(BaseModel):
    model: str
    dimensions: int
    vectors: list[list[float]]


def _check_embedding_caps(texts: list[str], settings: ReflectionSettings) -> None:
    """413 with a code when a request passes one of the settings' caps (docs/reflection.md)."""
    if len(texts) > settings.embeddings_max_texts:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_texts} texts per request",
            code="too_many_texts",
            details={"limit": settings.embeddings_max_texts},
        )
    long = [i for i, text in enumerate(texts) if len(text) > settings.embeddings_max_chars]
    if long:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_chars} characters per text",
            code="text_too_long",
            details={"limit": settings.embeddings_max_chars, "texts": long[:20]},
        )
    if sum(len(text) for text in texts) > settings.embeddings_max_total_chars:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_total_chars} characters per request",
            code="embedding_input_too_large",
            details={"limit": settings.embeddings_max_total_chars},
        )


@router.post(
    "/embeddings",
    response_model=EmbeddingResponse,
    dependencies=[require_service()],
    summary="Dense vectors of texts, from the platform's embedding model (services only)",
    responses={
        403: {"description": "the token lacks the `service` role (`service_only`)"},
        413: {"description": "too many or too long texts"},
    },
)
async def embed(body: EmbeddingRequest, request: Request) -> EmbeddingResponse:
    settings: ReflectionSettings = request.app.state.settings
    _check_embedding_caps(body.texts, settings)
    embedder: Embedder = request.app.state.embedder
    method = embedder.embed_queries if body.kind == "query" else embedder.embed_passages
    vectors = await embed_in_steps(request, method, body.texts)
    return EmbeddingResponse(
        model=embedder.model, dimensions=embedder.dimensions, vectors=vectors.round(6).tolist()
    )
