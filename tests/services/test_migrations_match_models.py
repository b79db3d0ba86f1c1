"""Every table a service's code defines is created, exactly, by its migrations — on both back
ends. A model change without a migration fails here, not in production."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from kit import outbox
from kit.db import create_engine
from kit.migrations import owned_by, tables_of, upgrade
from services.analytics.credentials import models as analytics_credential_models
from services.analytics.metrics import models as analytics_metric_models
from services.analytics.statements import models as analytics_statement_models
from services.ideas import models as ideas_models
from services.reflection.documents import models as document_models
from services.reflection.gaps import models as gap_models
from services.reflection.journal import models as journal_models

SERVICES = Path(__file__).resolve().parents[2] / "services"
OWNED: dict[str, tuple[ModuleType, ...]] = {
    "ideas": (ideas_models, outbox),
    "reflection": (document_models, gap_models, journal_models, outbox),
    "analytics": (
        analytics_credential_models,
        analytics_metric_models,
        analytics_statement_models,
        outbox,
    ),
}


@pytest.mark.parametrize("service", list(OWNED))
async def test_migrations_create_what_the_models_describe(service: str, database_url: str) -> None:
    await asyncio.to_thread(upgrade, SERVICES / service / "migrations", database_url)
    tables = tables_of(*OWNED[service])

    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"include_object": owned_by(tables), "compare_type": True}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == [], f"{service}: models and migrations differ: {differences}"
