"""Alembic environment of the analytics service; the engine handling lives in kit.migrations.
Every subpackage's tables are imported so autogenerate sees them all."""

from sqlmodel import SQLModel

from kit import outbox
from kit.migrations import run_env
from services.analytics.credentials import models as credential_models
from services.analytics.metrics import models as metric_models
from services.analytics.statements import models as statement_models

run_env(SQLModel.metadata, credential_models, metric_models, statement_models, outbox)
