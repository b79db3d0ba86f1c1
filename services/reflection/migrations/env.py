"""Alembic environment of the reflection service; the engine handling lives in kit.migrations.

Every subdomain's models module is named here, so autogenerate sees every table."""

from sqlmodel import SQLModel

from kit import outbox
from kit.migrations import run_env
from services.reflection.documents import models as document_models
from services.reflection.gaps import models as gap_models
from services.reflection.journal import models as journal_models

run_env(SQLModel.metadata, document_models, gap_models, journal_models, outbox)
