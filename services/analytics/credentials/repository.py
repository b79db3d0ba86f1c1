"""Every query of the LRS clients. Functions flush at most; the caller's session (the
request's) owns the transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.analytics.credentials.models import LrsClient


async def by_key(session: AsyncSession, key: str) -> LrsClient | None:
    """The client with this key, active or revoked, or None."""
    return (await session.exec(select(LrsClient).where(LrsClient.key == key))).first()


async def add(session: AsyncSession, client: LrsClient) -> None:
    """Insert a new client (flushed, so a taken key fails here)."""
    session.add(client)
    await session.flush()


async def all_clients(session: AsyncSession) -> list[LrsClient]:
    """Every client, oldest first."""
    query = select(LrsClient).order_by(col(LrsClient.created_at))
    return list((await session.exec(query)).all())


async def mark_made_by_erased(session: AsyncSession, subject: str, erased: str) -> None:
    """Clients made by `subject` keep working but name `erased` as their maker."""
    await session.exec(
        update(LrsClient).where(col(LrsClient.created_by) == subject).values(created_by=erased)
    )
