"""Alembic environment of the ideas service; the engine handling lives in kit.migrations."""

from sqlmodel import SQLModel

import kit.outbox
import services.ideas.models  # noqa: F401 - registers the tables
from kit.migrations import run_env

assert kit.outbox.OutboxMessage.__tablename__
run_env(SQLModel.metadata)
