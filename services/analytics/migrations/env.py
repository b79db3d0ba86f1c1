"""Alembic environment of the analytics service; the engine handling lives in kit.migrations."""

from sqlmodel import SQLModel

from kit import outbox
from kit.migrations import run_env
from services.analytics import models

run_env(SQLModel.metadata, models, outbox)
