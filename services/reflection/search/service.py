"""Search rules: permission-aware hybrid retrieval — the caller's teams and the hidden versions are
part of the engine query, so nothing the caller may not see is ever fetched — snippets, and the
caps of the embeddings endpoint."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.errors import PayloadTooLarge
from services.reflection.access import index_teams
from services.reflection.gaps.service import record_gap
from services.reflection.index.base import Hit, IndexFilter, VectorIndex
from services.reflection.index.sparse import query_vectors
from services.reflection.language import FUNCTION_WORDS
from services.reflection.search.embeddings import Embedder
from services.reflection.search.models import SearchHit, SearchRequest
from services.reflection.search.repository import hidden_versions
from services.reflection.settings import ReflectionSettings

SNIPPET = 240
TIE_MARGIN = 5
_WORD = re.compile(r"\w+", re.UNICODE)


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
    """The API shape of an index hit, its snippet made for `query`; score rounded to 6 places."""
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
    """The hits of `retrieve`, without the relevance."""
    hits, _ = await retrieve(session, index, embedder, principal, request)
    return hits


async def count_gap_if_missed(
    state: Any, principal: Principal, body: SearchRequest, relevance: float
) -> bool:
    """True when the best passage's relevance (cosine similarity) fell below
    `REFLECTION_GAP_THRESHOLD`: the question is then counted as a knowledge gap under the
    process asked about when exactly one was (gaps/service.py `record_gap`, in its own short
    transaction, since search itself only reads)."""
    if relevance >= state.settings.gap_threshold:
        return False
    processes = body.filters.process
    await record_gap(
        state.database,
        state.pseudonym_key,
        process=processes[0] if len(processes) == 1 else None,
        question=body.query,
        source="search",
        who=principal.subject,
    )
    return True


def check_embedding_caps(texts: list[str], settings: ReflectionSettings) -> None:
    """Nothing when `texts` fit the settings' caps (docs/reflection.md, "Embeddings"). Raises
    PayloadTooLarge (413 `too_many_texts`, `text_too_long` or `embedding_input_too_large`)."""
    if len(texts) > settings.embeddings_max_texts:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_texts} texts per request",
            code="too_many_texts",
            details={"limit": settings.embeddings_max_texts},
        )
    long = [i for i, text in enumerate(texts) if len(text) > settings.embeddings_max_chars]
    if long:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_chars} characters per text",
            code="text_too_long",
            details={"limit": settings.embeddings_max_chars, "texts": long[:20]},
        )
    if sum(len(text) for text in texts) > settings.embeddings_max_total_chars:
        raise PayloadTooLarge(
            f"at most {settings.embeddings_max_total_chars} characters per request",
            code="embedding_input_too_large",
            details={"limit": settings.embeddings_max_total_chars},
        )
