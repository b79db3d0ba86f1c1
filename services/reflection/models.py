"""Tables of the reflection service and the shapes its API reads and writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints
from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from kit.db import UTCDateTime, utcnow
from kit.text import VISIBLE


class VersionStatus(StrEnum):
    staged = "staged"  # being ingested; its chunks are hidden from every query
    live = "live"  # the one version queries see
    retired = "retired"  # replaced; hidden, its chunks deleted after a grace period
    failed = "failed"  # ingestion failed; hidden, its chunks deleted
    purged = "purged"  # its chunks are gone from the index


# Versions whose chunks queries must never see.
HIDDEN = (VersionStatus.staged, VersionStatus.retired, VersionStatus.failed)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    unchanged = "unchanged"  # same content as the live version: nothing re-embedded
    failed = "failed"


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    title: str = SQLField(max_length=300)
    process: str | None = SQLField(default=None, max_length=100, index=True)
    owner: str | None = SQLField(default=None, max_length=200)
    language: str = SQLField(max_length=8)
    # ["*"] for the whole organisation, else the team keys that may see it.
    teams: list[str] = SQLField(default_factory=list, sa_column=Column(JSON, nullable=False))
    live_version: int | None = None
    version_label: str | None = SQLField(default=None, max_length=50)
    chunk_count: int = 0
    created_by: str = SQLField(max_length=255)
    created_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    updated_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)


class DocumentVersion(SQLModel, table=True):
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
        return f"{self.document_id}:{self.number}"


class IngestJob(SQLModel, table=True):
    __tablename__ = "ingest_jobs"

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    document_id: uuid.UUID = SQLField(foreign_key="documents.id", index=True)
    version_id: uuid.UUID | None = SQLField(default=None, foreign_key="document_versions.id")
    status: str = SQLField(default=JobStatus.queued.value, max_length=20, index=True)
    chunks_total: int = 0
    chunks_done: int = 0
    chunks_reused: int = 0
    error: str | None = SQLField(default=None, sa_column=Column(Text))
    attempts: int = 0
    created_by: str = SQLField(max_length=255)
    created_at: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    started_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = SQLField(default=None, sa_type=UTCDateTime)


class ChunkEmbedding(SQLModel, table=True):
    """Vectors by chunk text: a new version re-embeds only the chunks whose text changed."""

    __tablename__ = "chunk_embeddings"

    text_hash: str = SQLField(primary_key=True, max_length=64)
    model: str = SQLField(primary_key=True, max_length=200)
    vector: bytes = SQLField(sa_column=Column(LargeBinary, nullable=False))


class KnowledgeGap(SQLModel, table=True):
    """A question the documents could not answer: its process and normalised words, no person."""

    __tablename__ = "knowledge_gaps"
    __table_args__ = (UniqueConstraint("process", "question"),)

    id: uuid.UUID = SQLField(default_factory=uuid.uuid4, primary_key=True)
    process: str = SQLField(default="", max_length=100, index=True)  # "" when none was named
    question: str = SQLField(max_length=300)
    occurrences: int = 0
    people: int = 0  # distinct askers, counted through keyed pseudonyms
    from_search: int = 0
    from_reflection: int = 0
    first_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)
    last_seen: datetime = SQLField(sa_type=UTCDateTime, default_factory=utcnow)


class KnowledgeGapAsker(SQLModel, table=True):
    """Keyed pseudonym per (gap, person): counts people once without naming them; a pseudonym
    differs per gap, so two gaps cannot be linked to the same person."""

    __tablename__ = "knowledge_gap_askers"

    gap_id: uuid.UUID = SQLField(foreign_key="knowledge_gaps.id", primary_key=True)
    asker: str = SQLField(primary_key=True, max_length=64)


# ---- API shapes ---------------------------------------------------------------------------


class JobPublic(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    status: JobStatus
    progress: float = Field(description="0 to 1.")
    chunks_total: int
    chunks_done: int
    chunks_reused: int = Field(description="Chunks whose vectors were reused, not re-embedded.")
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DocumentPublic(BaseModel):
    id: uuid.UUID
    title: str
    process: str | None
    owner: str | None
    language: str
    teams: list[str] = Field(description='["*"] when the whole organisation may read it.')
    version: int | None = Field(description="The live version number; null until one is live.")
    version_label: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class UploadAccepted(BaseModel):
    document: DocumentPublic
    job: JobPublic


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    process: list[str] = Field(default_factory=list, max_length=20)
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    language: list[str] = Field(default_factory=list, max_length=5)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # A search no one could read is also no knowledge gap a coach could read (gaps.py).
    query: Annotated[str, StringConstraints(min_length=1, max_length=2000), VISIBLE]
    filters: SearchFilters = Field(default_factory=SearchFilters)
    k: StrictInt = Field(default=5, ge=1, le=50)


class SearchHit(BaseModel):
    citation_id: str = Field(description="Cite this; it names the chunk.")
    document_id: uuid.UUID
    document_title: str
    version: int
    section: list[str] = Field(description="Heading path of the chunk, e.g. [Storingen, Noodstop].")
    start: int = Field(description="Character offset of the chunk in the document's text.")
    end: int
    text: str
    snippet: str = Field(description="The best passage, matched words marked as **word**.")
    score: float
    language: str
    process: str | None


class SearchResult(BaseModel):
    hits: list[SearchHit]


class SearchResultWithGap(SearchResult):
    relevance: float = Field(
        description="Cosine similarity of the closest passage you may read (dense model)."
    )
    gap: bool = Field(description="Nothing you may read answered this well: a knowledge gap.")
