"""Async database access: one engine per process, one transaction per request.

SQLite (the embedded default) and PostgreSQL run the same code. The request-scoped session owns
the transaction: it commits when the handler returns and rolls back when it raises, so a failed
request never leaves half-written rows. Repositories only flush.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession

READ_ONLY = "werkvloer_read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_sqlite(url: str) -> bool:
    """Whether the database URL is SQLite (any driver)."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # We emit BEGIN ourselves (below) instead of letting the driver guess when to.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout waits for the lock instead of
    # failing at once; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Transactions take SQLite's write lock up front (BEGIN IMMEDIATE) unless marked read-only.

    A deferred transaction that reads and then writes cannot upgrade its lock when another
    writer committed in between, and fails at once instead of waiting: concurrent work would
    lose writes. Taking the lock first makes writers queue behind `busy_timeout`. Read-only
    transactions (GET requests, `ReadSessionDep`) stay deferred, so WAL readers never wait.
    """
    read_only = connection.get_execution_options().get(READ_ONLY)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """`hide_parameters`: SQL logs and error messages never carry row values (an anonymous
    author's id, a person's own text), whatever the log level."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping lets a process survive a database restart without being restarted itself.
    return create_async_engine(
        url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10
    )


class Database:
    """Holds the engine and the session factory; created in lifespan, disposed on shutdown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    async def ping(self) -> None:
        """Returns when the database answers `SELECT 1`; raises the driver's error otherwise (a
        readiness check)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection (at shutdown)."""
        await self.engine.dispose()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads: on SQLite it never takes the write lock."""
        async with self.sessions() as session:
            await session.connection(execution_options={READ_ONLY: True})
            yield session


@asynccontextmanager
async def unit_of_work(database: Database) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the `async with` body returns and rolls back
    when it raises (the error propagates): the one transaction helper for background work
    (workers, start-up tasks). Requests use `SessionDep`, which owns the request's transaction."""
    async with database.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def _session(request: Request, read_only: bool) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.database) as session:
        if read_only or request.method in SAFE_METHODS:
            await session.connection(execution_options={READ_ONLY: True})
        yield session


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in _session(request, read_only=False):
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in _session(request, read_only=True):
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit can
# never be reported to the client as a success.
SessionDep = Annotated[AsyncSession, Depends(_request_session, scope="function")]
# For POST routes that only read (a search): they never take SQLite's write lock.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both back ends (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The value in UTC for the database. Raises ValueError for a naive datetime."""
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are refused: use UTC-aware values")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """The stored value as an aware UTC datetime (SQLite hands back naive ones)."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def insert_ignoring_duplicates(session: AsyncSession, table: Any) -> Insert:
    """`INSERT ... ON CONFLICT DO NOTHING` in the dialect of the session's database.

    The row count of the result tells whether a row was really added, which lets a caller keep
    a counter exact under concurrency without reading first.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def upsert(session: AsyncSession, table: Any, keys: list[str], values: dict[str, Any]) -> Insert:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE`: safe when two transactions write one row."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values)
    changes = {name: value for name, value in values.items() if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)
