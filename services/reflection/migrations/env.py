"""Alembic environment of the reflection service; the engine handling lives in kit.migrations."""

from sqlmodel import SQLModel

from kit import outbox
from kit.migrations import run_env
from services.reflection import models
from services.reflection.journal import models as journal_models

run_env(SQLModel.metadata, models, journal_models, outbox)
