"""A LangChain retriever over the index, for chains (the reflection guide, an LLM) that want
documents rather than HTTP. It applies exactly the same permission-aware search as `/v1/search`."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from kit.auth import Principal
from kit.db import Database
from services.reflection.index.base import VectorIndex
from services.reflection.search.embeddings import Embedder
from services.reflection.search.models import SearchFilters, SearchRequest
from services.reflection.search.service import search


class DocumentRetriever(BaseRetriever):
    """Retrieves passages the given person may read; metadata carries the citation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    database: Database
    index: Any  # a VectorIndex; Any because pydantic cannot check a Protocol
    embedder: Any  # an Embedder
    principal: Principal
    k: int = 5
    filters: SearchFilters = SearchFilters()

    @classmethod
    def build(
        cls,
        database: Database,
        index: VectorIndex,
        embedder: Embedder,
        principal: Principal,
        k: int = 5,
    ) -> DocumentRetriever:
        """A retriever of the best `k` passages `principal` may read."""
        return cls(database=database, index=index, embedder=embedder, principal=principal, k=k)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        request = SearchRequest(query=query, filters=self.filters, k=self.k)
        async with self.database.reading() as session:
            hits = await search(session, self.index, self.embedder, self.principal, request)
        return [
            LCDocument(
                page_content=hit.text,
                metadata={
                    "citation_id": hit.citation_id,
                    "document_id": str(hit.document_id),
                    "title": hit.document_title,
                    "version": hit.version,
                    "section": hit.section,
                    "score": hit.score,
                },
            )
            for hit in hits
        ]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        """Synchronous callers get the same answer on a private event loop."""
        return asyncio.run(self.ainvoke(query))
