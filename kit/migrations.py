"""Alembic, driven from code: each service keeps its own `migrations/` folder and database.

`upgrade(folder, url)` brings a database to the newest revision; every service's `env.py` calls
`run_env` so the async engine handling lives in one place. `upgrade` is synchronous (Alembic's
API is); from async code call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from kit.db import Database, create_engine, is_sqlite
from kit.health import ReadinessCheck


def _config(folder: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(folder / "versions"))
    config.attributes["database_url"] = url
    return config


def upgrade(folder: Path, url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (default the newest) with the Alembic scripts in
    `folder`."""
    command.upgrade(_config(folder, url), revision)


def downgrade(folder: Path, url: str, revision: str) -> None:
    """Migrate the database at `url` back to `revision`."""
    command.downgrade(_config(folder, url), revision)


def owned_by(tables: set[str]) -> Callable[..., bool]:
    """All services' models share one SQLModel metadata in a process; each database holds only
    its own service's tables, so autogenerate must look at those alone."""

    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        if kind == "table":
            return name in tables
        table = getattr(obj, "table", None)
        return table is None or table.name in tables

    return include


def _run_sync(connection: Connection, metadata: MetaData, tables: set[str]) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=owned_by(tables),
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData, tables: set[str]) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync, metadata, tables)
            await connection.commit()
    finally:
        await engine.dispose()


def tables_of(*modules: ModuleType) -> set[str]:
    """Names of the tables the model classes in `modules` define."""
    return {
        obj.__tablename__
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, type) and hasattr(obj, "__table__") and hasattr(obj, "__tablename__")
    }


def run_env(metadata: MetaData, *modules: ModuleType) -> None:
    """Body of every service's `migrations/env.py`: `modules` hold the service's tables."""
    tables = tables_of(*modules)
    url = context.config.attributes["database_url"]
    asyncio.run(_run_async(url, metadata, tables))


def head_revision(folder: Path) -> str | None:
    """The newest revision id of the scripts in `folder`, or None when there are none."""
    return ScriptDirectory.from_config(_config(folder, "")).get_current_head()


def schema_check(folder: Path, database: Database) -> ReadinessCheck:
    """A readiness check: the database answers and carries this code's newest migration."""
    expected = head_revision(folder)

    async def check() -> None:
        async with database.engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            current = result.scalar_one_or_none()
        if current != expected:
            raise RuntimeError(f"schema at {current}, code expects {expected}: run the migrations")

    return check


def autogenerate(folder: Path, url: str, message: str, revision_id: str) -> None:
    """Write a new revision from the difference between the models and the database at `url`."""
    command.revision(_config(folder, url), message=message, autogenerate=True, rev_id=revision_id)
