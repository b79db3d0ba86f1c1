"""Alembic environment of the analytics service; the engine handling lives in kit.migrations."""

from sqlmodel import SQLModel

from kit.migrations import run_env

run_env(SQLModel.metadata)
