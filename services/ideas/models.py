"""Tables of the ideas service and the shapes its API reads and writes (the Idea family shares
`IdeaBase`). Input shapes forbid unknown fields: a misspelt field is an error, never dropped."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, StrictBool, StrictInt, StringConstraints
from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from kit.db import UTCDateTime, utcnow
from kit.openapi import SENT_IN_FULL
from kit.text import VISIBLE
from services.ideas.fields import (
    CommentBody,
    Impact,
    LongText,
    OptionalText,
    Reason,
    Status,
    Strict,
    Tag,
    TeamKey,
    Title,
)


class IdeaBase(SQLModel):
    """What an idea says, for the table, `IdeaCreate` and `IdeaPublic`: plain types, a column's
    size as its `sa_type`. Decision (issue 13 review): input rules and input defaults are added
    by `IdeaCreate` only, so `IdeaPublic` shows a STORED row that predates a rule (200, as before
    the refactor, not a 500) and publishes no input limits; every row comes from an IdeaCreate."""

    title: str = Field(sa_type=AutoString(200))
    problem: str = Field(sa_type=Text)
    proposal: str = Field(sa_type=Text)
    team: str = Field(foreign_key="teams.key", sa_type=AutoString(64))
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    anonymous: bool


class Team(SQLModel, table=True):
    """A team ideas belong to, by key."""

    __tablename__ = "teams"

    key: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Idea(IdeaBase, table=True):
    """One idea: what it says (`IdeaBase`), who wrote it, where it stands, its counters."""

    __tablename__ = "ideas"
    __table_args__ = (
        Index("ix_ideas_created", "created_at", "id"),
        Index("ix_ideas_updated", "updated_at", "id"),
        Index("ix_ideas_support", "support_count", "id"),
        Index("ix_ideas_team_status", "team", "status"),
        # A retried create finds its first result; two concurrent retries cannot both insert.
        UniqueConstraint("author_id", "idempotency_key", name="uq_ideas_idempotency"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # "|tag-a|tag-b|": lets both SQLite and PostgreSQL filter by tag with one portable LIKE.
    tag_index: str = Field(default="||", max_length=1000)
    # Lower-cased, accent-free title + problem + proposal for portable full-text matching.
    search_text: str = Field(sa_column=Column(Text, nullable=False))
    author_id: str = Field(max_length=255, index=True)
    author_name: str = Field(max_length=255)
    status: str = Field(default=Status.draft.value, max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    updated_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    support_count: int = 0
    comment_count: int = 0
    follower_count: int = 0
    # `IdeaDetails` as stored: impacts without their empty scales, links as UUID text.
    expected_impact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    realized_impact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reflection_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    document_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The caller's Idempotency-Key and a hash of the request it came with (idempotency.py).
    idempotency_key: str | None = Field(default=None, max_length=200)
    idempotency_hash: str | None = Field(default=None, max_length=64)


class IdeaTransition(SQLModel, table=True):
    """Immutable: rows are only ever inserted."""

    __tablename__ = "idea_transitions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    idea_id: uuid.UUID = Field(foreign_key="ideas.id", index=True)
    actor_id: str = Field(max_length=255)
    actor_name: str = Field(max_length=255)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Support(SQLModel, table=True):
    """One person's support of an idea (the idea's `support_count` counts these rows)."""

    __tablename__ = "idea_supports"

    idea_id: uuid.UUID = Field(foreign_key="ideas.id", primary_key=True)
    person_id: str = Field(primary_key=True, max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Follow(SQLModel, table=True):
    """One person following an idea (the idea's `follower_count` counts these rows)."""

    __tablename__ = "idea_follows"

    idea_id: uuid.UUID = Field(foreign_key="ideas.id", primary_key=True)
    person_id: str = Field(primary_key=True, max_length=255, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class Comment(SQLModel, table=True):
    """A comment or a one-level reply; a deleted comment keeps its place with no body."""

    __tablename__ = "idea_comments"
    __table_args__ = (
        Index("ix_comments_idea_created", "idea_id", "created_at", "id"),
        UniqueConstraint("author_id", "idempotency_key", name="uq_comments_idempotency"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    idea_id: uuid.UUID = Field(foreign_key="ideas.id")
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="idea_comments.id")
    author_id: str = Field(max_length=255)
    author_name: str = Field(max_length=255)
    body: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Moves on every edit and delete: the comment's ETag (If-Match on PATCH and DELETE).
    version: int = 1
    idempotency_key: str | None = Field(default=None, max_length=200)
    idempotency_hash: str | None = Field(default=None, max_length=64)


class Webhook(SQLModel, table=True):
    """A URL an admin registered to receive idea events, signed with its secret."""

    __tablename__ = "webhooks"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    url: str = Field(max_length=2000)
    # The HMAC key: kept readable because signing needs it; shown to the admin once.
    secret: str = Field(max_length=200)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One event queued for one webhook, with the outcome of its tries (workers.py)."""

    __tablename__ = "webhook_deliveries"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: uuid.UUID = Field(foreign_key="webhooks.id", index=True)
    event: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow, index=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime, default_factory=utcnow)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IdeaDetails(SQLModel):
    """Expected impact and links, for `IdeaCreate` and `IdeaPublic` (stored as JSON: dicts and
    UUID text); plain list types, `IdeaCreate` adds the item counts (see `IdeaBase`)."""

    expected_impact: Impact | None = None
    reflection_ids: list[uuid.UUID] = Field(default_factory=list)
    document_ids: list[uuid.UUID] = Field(default_factory=list)


class IdeaCreate(IdeaBase, IdeaDetails):
    """A new idea with the input rules of capture, and whether to submit it for review at once."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}  # as `Strict`

    title: Title
    problem: LongText
    proposal: OptionalText = ""
    team: TeamKey
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    anonymous: StrictBool = False
    reflection_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    document_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    submit: StrictBool = Field(
        default=False, description="Submit for review at once instead of a draft."
    )


class IdeaUpdate(Strict):
    """The fields of an idea to change (each optional, rules of capture), realised impact too."""

    title: Title | None = None
    problem: LongText | None = None
    proposal: OptionalText | None = None
    tags: list[Tag] | None = Field(default=None, max_length=10)
    expected_impact: Impact | None = None
    realized_impact: Impact | None = None
    reflection_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)
    document_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)


class Person(BaseModel):
    """A person shown beside an idea, a move or a comment: subject and display name."""

    subject: str
    name: str


class IdeaPublic(IdeaBase, IdeaDetails):
    """An idea as its reader may see it: an anonymous idea's author is shown to that author only."""

    model_config = SENT_IN_FULL

    id: uuid.UUID
    author: Person | None = Field(
        description="Absent when the idea is anonymous (except to its author)."
    )
    is_mine: bool
    status: Status
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    version: int
    support_count: int
    comment_count: int
    follower_count: int
    supported_by_me: bool
    following: bool
    realized_impact: Impact | None


class TransitionCreate(Strict):
    """A workflow move: the status to go to and, where needed, a public reason."""

    to: Status
    reason: Reason | None = None


class TransitionPublic(BaseModel):
    """One move in an idea's history."""

    from_status: Status
    to_status: Status
    reason: str | None
    at: datetime
    actor: Person | None = Field(description="Absent when the anonymous author made the move.")


class CommentCreate(Strict):
    """A new comment, or a reply to a comment (one level deep)."""

    body: CommentBody
    parent_id: uuid.UUID | None = None


class CommentUpdate(Strict):
    """A comment's new text."""

    body: CommentBody


class CommentPublic(BaseModel):
    """A comment as its reader may see it: an anonymous author's own comments name nobody."""

    id: uuid.UUID
    idea_id: uuid.UUID
    parent_id: uuid.UUID | None
    author: Person | None
    by_idea_author: bool
    body: str | None
    deleted: bool
    created_at: datetime
    edited_at: datetime | None
    version: int = Field(description='Send as If-Match (`"<version>"`) to edit or delete.')


class TeamPublic(BaseModel):
    """A team: key and display name."""

    key: str
    name: str


class TeamUpsert(Strict):
    """A team's display name."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), VISIBLE]


class SimilarRequest(Strict):
    """A draft's text to find likely duplicates of, optionally within one team."""

    text: Annotated[str, StringConstraints(min_length=3, max_length=5000)]
    team: str | None = None
    limit: StrictInt = Field(default=5, ge=1, le=20)


class SimilarIdea(BaseModel):
    """An existing idea like the draft."""

    id: uuid.UUID
    title: str
    team: str
    status: Status
    support_count: int
    score: float = Field(description="Fused relevance, higher is more alike.")
    matched_by: list[Literal["lexical", "semantic"]]


class SimilarResult(BaseModel):
    """Likely duplicates, best first."""

    items: list[SimilarIdea]
    semantic: bool = Field(description="False when the embeddings service could not be reached.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list and the cursor of the next."""

    items: list[T]
    cursors: list[str] | None = Field(
        default=None, description="Per item, a cursor that resumes the list after that item."
    )
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


WEBHOOK_EVENTS = ("idea.created", "idea.transitioned", "idea.supported", "idea.commented")
WebhookEvent = Literal["idea.created", "idea.transitioned", "idea.supported", "idea.commented"]


class WebhookCreate(Strict):
    """A webhook to register: its URL and the events it wants (default: all)."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    events: list[WebhookEvent] = Field(default_factory=lambda: list(WEBHOOK_EVENTS), min_length=1)


class WebhookPublic(BaseModel):
    """A registered webhook; its secret only in the answer that made it."""

    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description="Shown once, when the webhook is made.")


class DeliveryPublic(BaseModel):
    """One delivery of an event to a webhook, and how its tries went."""

    id: uuid.UUID
    event: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class IdeaEmbedding(SQLModel, table=True):
    """A cached dense vector of an idea's text, made by the reflection service's model."""

    __tablename__ = "idea_embeddings"

    idea_id: uuid.UUID = Field(foreign_key="ideas.id", primary_key=True)
    model: str = Field(max_length=200)
    text_hash: str = Field(max_length=64)
    vector: list[float] = Field(sa_column=Column(JSON, nullable=False))
