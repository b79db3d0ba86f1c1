"""Permission-aware hybrid retrieval: the caller's teams and the hidden versions are part of the
engine query, so nothing the caller may not see is ever fetched."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from services.reflection.access import index_teams
from services.reflection.embeddings import Embedder
from services.reflection.index.base import Hit, IndexFilter, VectorIndex
from services.reflection.index.sparse import query_vectors
from services.reflection.language import FUNCTION_WORDS
from services.reflection.models import HIDDEN, DocumentVersion, SearchHit, SearchRequest

SNIPPET = 240
TIE_MARGIN = 5
_WORD = re.compile(r"\w+", re.UNICODE)


async def hidden_versions(session: AsyncSession) -> list[str]:
    rows = await session.exec(
        select(DocumentVersion.document_id, DocumentVersion.number).where(
            col(DocumentVersion.status).in_([s.value for s in HIDDEN])
        )
    )
    return [f"{document_id}:{number}" for document_id, number in rows.all()]


def _marks(word: str, stems: set[str]) -> bool:
    lowered = word.lower()
    return len(word) >= 3 and lowered not in FUNCTION_WORDS and lowered[:5] in stems


def snippet(text: str, query: str) -> str:
    """The passage around the first matched word, matched words marked **like this**."""
    stems = {
        w.lower()[:5]
        for w in _WORD.findall(query)
        if len(w) >= 3 and w.lower() not in FUNCTION_WORDS
    }
    matches = [m for m in _WORD.finditer(text) if _marks(m.group(), stems)]
    start = max(0, matches[0].start() - SNIPPET // 3) if matches else 0
    end = min(len(text), start + SNIPPET)
    window = text[start:end]
    marked = _WORD.sub(
        lambda m: (
            f"**{m.group()}**"
            if len(m.group()) >= 3 and m.group().lower()[:5] in stems
            else m.group()
        ),
        window,
    )
    return ("…" if start else "") + " ".join(marked.split()) + ("…" if end < len(text) else "")


def to_hit(hit: Hit, query: str) -> SearchHit:
    p = hit.payload
    return SearchHit(
        citation_id=str(p["chunk_id"]),
        document_id=uuid.UUID(p["document_id"]),
        document_title=str(p["title"]),
        version=int(p["version"]),
        section=list(p.get("section") or []),
        start=int(p["start"]),
        end=int(p["end"]),
        text=str(p["text"]),
        snippet=snippet(str(p["text"]), query),
        score=round(hit.score, 6),
        language=str(p["language"]),
        process=p.get("process") or None,
    )


async def retrieve(
    session: AsyncSession,
    index: VectorIndex,
    embedder: Embedder,
    principal: Principal,
    request: SearchRequest,
) -> tuple[list[SearchHit], float]:
    """The hits, and the best cosine similarity among the chunks the caller may see: fused
    scores rank well but say nothing absolute, so relevance is judged on the dense score."""
    where = IndexFilter(
        teams=index_teams(principal),  # the reader's visibility, now
        exclude_versions=await hidden_versions(session),
        processes=request.filters.process,
        document_ids=[str(d) for d in request.filters.document_ids],
        languages=request.filters.language,
    )
    dense = (await embedder.embed_queries([request.query]))[0].tolist()
    # A few extra, then ties broken by id: equal fused scores (common with RRF) would otherwise
    # come back in any order, and the same question could cite different passages.
    found: Sequence[Hit] = await index.search(
        dense, query_vectors(request.query), where, request.k + TIE_MARGIN
    )
    hits = sorted(found, key=lambda hit: (-round(hit.score, 9), hit.id))[: request.k]
    best = await index.search_dense(dense, where, 1)
    relevance = best[0].score if best else 0.0
    return [to_hit(hit, request.query) for hit in hits], relevance


async def search(
    session: AsyncSession,
    index: VectorIndex,
    embedder: Embedder,
    principal: Principal,
    request: SearchRequest,
) -> list[SearchHit]:
    hits, _ = await retrieve(session, index, embedder, principal, request)
    return hits
