"""Tables of documents, their versions, ingestion jobs and cached chunk vectors, and the shapes
the document routes answer with.

A field both stored and shown is declared once, in a base the table and the public shape inherit
(`DocumentBase`, `JobBase`); what only one of them holds is declared there. A base declares plain
types: a column's size is its `sa_type`, not a pydantic `max_length`, which the public shape would
publish and apply to stored rows as an input rule (issue 13 review). Response shapes built on a
base use `kit.openapi.SENT_IN_FULL`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import AutoString, SQLModel
from sqlmodel import Field as SQLField

from kit.db import UTCDateTime, utcnow
from kit.openapi import SENT_IN_FULL


class VersionStatus(StrEnum):
    """Where a document version is in its life; only `live` chunks are ever searched."""

    staged = "staged"  # being ingested; its chunks are hidden from every query
    live = "live"  # the one version queries see
    retired = "retired"  # replaced; hidden, its chunks deleted after a grace period
    failed = "failed"  # ingestion failed; hidden, its chunks deleted
    purged = "purged"  # its chunks are gone from the index


# Versions whose chunks queries must never see.
HIDDEN = (VersionStatus.staged, VersionStatus.retired, VersionStatus.failed)


class JobStatus(StrEnum):
    """Where an ingestion job is; `completed` and `unchanged` are its successful ends."""

    queued = "queued"
    running = "running"
    completed = "completed"
    unchanged = "unchanged"  # same content as the live version: nothing re-embedded
    failed = "failed"


class DocumentBase(SQLModel):
    """What a document is and who may read it: stored in `documents`, shown in DocumentPublic."""

    title: str = SQLField(sa_type=AutoString(300))
    process: str | None = SQLField(default=None, sa_type=AutoString(100), index=True)
    owner: str | None = SQLField(default=None, sa_type=AutoString(200))
    language: str = SQLField(sa_type=AutoString(8))
    teams: list[str] = SQLField(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description='["*"] when the whole organisation may read it.',
    )
    version_label: str | None = SQLField(default=None, sa_type=AutoString(50))
    chunk_count: int = 0
    created_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    updated_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)


class Document(DocumentBase, table=True):
    """A process document: its metadata, who may read it and which version is live."""

    __tablename__ = "documents"

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    live_version: int | None = None
    created_by: str = SQLField(max_length=255)


class DocumentVersion(SQLModel, table=True):
    """One uploaded version of a document: its hash, its parsed sections and its state."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    document_id: uuid.UUID = SQLField(foreign_key="documents.id", index=True)
    number: int
    label: str | None = SQLField(default=None, max_length=50)
    content_hash: str = SQLField(max_length=64, index=True)
    media_type: str = SQLField(max_length=100)
    filename: str = SQLField(max_length=300)
    size: int
    # The extracted sections, kept so a job can resume after a restart without the upload.
    sections: list[dict[str, Any]] = SQLField(sa_column=Column(JSON, nullable=False))
    status: str = SQLField(default=VersionStatus.staged.value, max_length=20, index=True)
    chunk_count: int = 0
    created_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    live_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)

    @property
    def key(self) -> str:
        """`document_id:number`, the version's key in the index payload (`version_key`)."""
        return f"{self.document_id}:{self.number}"


class JobBase(SQLModel):
    """An ingestion job's document, progress in chunks, failure and times: stored in
    `ingest_jobs`, shown in JobPublic."""

    document_id: uuid.UUID = SQLField(foreign_key="documents.id", index=True)
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_reused: int = SQLField(
        default=0, description="Chunks whose vectors were reused, not re-embedded."
    )
    error: str | None = SQLField(default=None, sa_column=Column(Text))
    created_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    started_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)


class IngestJob(JobBase, table=True):
    """The background work that makes one version searchable, with its progress in chunks."""

    __tablename__ = "ingest_jobs"

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    version_id: uuid.UUID | None = SQLField(default=None, foreign_key="document_versions.id")
    status: str = SQLField(default=JobStatus.queued.value, max_length=20, index=True)
    attempts: int = 0
    created_by: str = SQLField(max_length=255)


class ChunkEmbedding(SQLModel, table=True):
    """Vectors by chunk text: a new version re-embeds only the chunks whose text changed."""

    __tablename__ = "chunk_embeddings"

    text_hash: str = SQLField(primary_key=True, max_length=64)
    model: str = SQLField(primary_key=True, max_length=200)
    vector: bytes = SQLField(sa_column=Column(LargeBinary, nullable=False))


class JobPublic(JobBase):
    """An ingestion job as the API shows it."""

    model_config = SENT_IN_FULL

    id: uuid.UUID
    status: JobStatus
    progress: float = Field(description="0 to 1.")


class DocumentPublic(DocumentBase):
    """A document as the API shows it."""

    model_config = SENT_IN_FULL

    id: uuid.UUID
    version: int | None = Field(description="The live version number; null until one is live.")


class UploadAccepted(BaseModel):
    """The answer to an upload (202): the document and the job that will ingest it."""

    document: DocumentPublic
    job: JobPublic


class DocumentPage(BaseModel):
    """One page of `GET /v1/documents`, ordered by id; `next_cursor` is null on the last page."""

    items: list[DocumentPublic]
    cursors: list[str] = Field(
        description="Per item, a cursor that resumes the list after that item (the gateway's "
        "Relay edges use them)."
    )
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
