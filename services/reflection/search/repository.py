"""The one query search needs: which document versions are hidden from every reader."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reflection.documents.models import HIDDEN, DocumentVersion


async def hidden_versions(session: AsyncSession) -> list[str]:
    """Version keys (`document_id:number`) of staged, retired and failed versions, whose chunks
    no query may return."""
    rows = await session.exec(
        select(DocumentVersion.document_id, DocumentVersion.number).where(
            col(DocumentVersion.status).in_([s.value for s in HIDDEN])
        )
    )
    return [f"{document_id}:{number}" for document_id, number in rows.all()]
