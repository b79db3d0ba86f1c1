"""Test databases: a SQLite file per test, or a PostgreSQL database created and dropped per test.

The PostgreSQL server is the machine's (127.0.0.1:5432, trust auth). Outside CI the PostgreSQL
half may be skipped when no server answers, loudly; in CI (`CI` set) that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

PG_ADMIN_DSN = os.environ.get(
    "WERKVLOER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=30)  # slow, not absent, when busy
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def sqlite_url(folder: Path, name: str = "test") -> str:
    return f"sqlite+aiosqlite:///{folder / f'{name}.db'}"


def _async_url(dsn: str, database: str) -> str:
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, empty database that is dropped afterwards, whatever the test did."""
    name = f"werkvloer_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _async_url(PG_ADMIN_DSN, name)
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def columns_mentioning(database_url: str, needle: str) -> list[str]:
    """Every table.column of the database whose stored text contains `needle` (GDPR checks)."""
    from sqlalchemy import text

    from kit.db import create_engine

    engine = create_engine(database_url)
    found: list[str] = []
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                tables = [
                    r[0]
                    for r in await connection.execute(
                        text("SELECT name FROM sqlite_master WHERE type='table'")
                    )
                ]
                columns = [
                    (t, r[1])
                    for t in tables
                    for r in await connection.execute(text(f'PRAGMA table_info("{t}")'))
                ]
            else:
                columns = [
                    (r[0], r[1])
                    for r in await connection.execute(
                        text(
                            "SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = 'public'"
                        )
                    )
                ]
            for table, column in columns:
                hits = await connection.execute(
                    # Names come from the database's own catalogue, the needle is a parameter.
                    text(f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE :n'),  # noqa: S608
                    {"n": f"%{needle}%"},
                )
                if hits.scalar():
                    found.append(f"{table}.{column}")
    finally:
        await engine.dispose()
    return found
