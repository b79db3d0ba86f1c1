"""REST routes of search and of the embeddings endpoint: parse, call search/service.py, present."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request

from kit.auth import PrincipalDep
from kit.db import ReadSessionDep
from kit.disconnect import ensure_connected, until_disconnected
from kit.service_auth import require_service
from services.reflection.search.embeddings import Embedder, embed_in_steps
from services.reflection.search.models import (
    EmbeddingRequest,
    EmbeddingResponse,
    SearchRequest,
    SearchResultWithGap,
)
from services.reflection.search.service import check_embedding_caps, count_gap_if_missed, retrieve
from services.reflection.settings import ReflectionSettings

embeddings = APIRouter(prefix="/v1", tags=["embeddings"])
# Search is documented with the documents it searches.
search = APIRouter(prefix="/v1", tags=["documents"])


@search.post("/search", response_model=SearchResultWithGap, summary="Hybrid search with citations")
async def search_documents(
    body: SearchRequest, request: Request, session: ReadSessionDep, principal: PrincipalDep
) -> SearchResultWithGap:
    """The best `k` passages the caller may read, the best cosine similarity (`relevance`) and
    whether it fell below the gap threshold, in which case the question is counted as a
    knowledge gap (in its own short transaction). Raises 422 `validation_error` for a bad body."""
    state = request.app.state
    await ensure_connected(request)  # a caller who gave up costs no embedding
    hits, relevance = await until_disconnected(
        request, retrieve(session, state.index, state.embedder, principal, body)
    )
    gap = await count_gap_if_missed(state, principal, body, relevance)
    return SearchResultWithGap(hits=hits, relevance=round(relevance, 4), gap=gap)


@embeddings.post(
    "/embeddings",
    response_model=EmbeddingResponse,
    dependencies=[require_service()],
    summary="Dense vectors of texts, from the platform's embedding model (services only)",
    responses={
        403: {"description": "the token lacks the `service` role (`service_only`)"},
        413: {"description": "too many or too long texts"},
    },
)
async def embed(body: EmbeddingRequest, request: Request) -> EmbeddingResponse:
    """One vector per text (rounded to 6 places), in order. Raises 403 `service_only` and 413 (see
    `check_embedding_caps`); stops early, answering nothing, when the caller hangs up."""
    settings: ReflectionSettings = request.app.state.settings
    check_embedding_caps(body.texts, settings)
    embedder: Embedder = request.app.state.embedder
    method = embedder.embed_queries if body.kind == "query" else embedder.embed_passages
    # A caller who hung up costs at most the step running (search/embeddings.py).
    vectors = await embed_in_steps(method, body.texts, partial(ensure_connected, request))
    return EmbeddingResponse(
        model=embedder.model, dimensions=embedder.dimensions, vectors=vectors.round(6).tolist()
    )
