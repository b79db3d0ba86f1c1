"""Likely duplicates of a draft: lexical always, semantic when the reflection service's
embeddings answer (`similar.py` ranks and fuses).

Idea vectors are cached in `idea_embeddings`, keyed by a hash of the text, and filled lazily
(a bounded number per request), so the embedding model is asked only about new or changed
ideas. If the reflection service is down, slow or lacks the endpoint, the answer is lexical
only and says so (`semantic: false`); the worker is never kept waiting for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from kit.db import unit_of_work
from kit.service_auth import service_headers
from kit.service_client import ServiceUnavailable
from services.ideas.fields import Status
from services.ideas.models import Idea, IdeaEmbedding, SimilarIdea, SimilarRequest, SimilarResult
from services.ideas.repository.ideas import IdeasRepository
from services.ideas.service.ideas import IdeasService
from services.ideas.service.similar import CANDIDATE_CAP, fuse, lexical_rank, query_stems

log = logging.getLogger(__name__)

SEMANTIC_POOL = 2000
# The reflection service's caps on /v1/embeddings (its defaults; docs/reflection.md): texts
# are cut to EMBED_MAX_CHARS (the model reads ~512 tokens at a time anyway) and at most
# EMBED_PER_REQUEST * EMBED_MAX_CHARS characters go in one request.
EMBED_PER_REQUEST = 16
EMBED_MAX_CHARS = 2000
# multilingual-e5 cosine scores crowd between 0.75 and 0.95, so one fixed cut-off is weak.
# Measured on Dutch/English idea pairs (docs/ideas.md): true duplicates, also across the two
# languages, scored 0.83-0.91; unrelated ideas up to 0.825, and always at least 0.02 below the
# best match of a query that had one. Keep what clears the floor and is near the best.
MIN_COSINE = 0.82
NEAR_BEST = 0.02


class EmbeddingsUnavailable(Exception):
    """The reflection service's embeddings did not answer usefully: the answer is lexical."""


def _idea_text(idea: Idea) -> str:
    return f"{idea.title}. {idea.problem} {idea.proposal}".strip()


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _embed(state: Any, texts: list[str], kind: str) -> tuple[str, np.ndarray]:
    """Vectors from the reflection service's internal endpoint (`state.reflection`, a
    kit ServiceClient), called with this service's own credentials (kit/service_auth.py),
    never the worker's token."""
    headers = service_headers(state.settings, "ideas")
    if headers is None:
        raise EmbeddingsUnavailable("no service credentials (IDEAS_SERVICE_TOKEN)")
    texts = [text[:EMBED_MAX_CHARS] for text in texts]
    try:
        reply = await state.reflection.request(
            "POST", "/v1/embeddings", json={"texts": texts, "kind": kind}, headers=headers
        )
    except ServiceUnavailable as exc:
        raise EmbeddingsUnavailable("unreachable") from exc
    if reply.status != 200:
        raise EmbeddingsUnavailable(f"HTTP {reply.status}")
    body = reply.body
    vectors = np.asarray(body["vectors"], dtype=np.float32)
    if vectors.shape[0] != len(texts):
        raise EmbeddingsUnavailable("wrong number of vectors")
    return str(body["model"]), vectors


async def _remember(state: Any, rows: list[IdeaEmbedding]) -> None:
    """Cache new vectors in a short transaction of its own (the request only reads); a lost
    race with another request doing the same only costs a recomputation later."""
    try:
        async with unit_of_work(state.database) as session:
            await IdeasRepository(session).remember_embeddings(rows)
    except SQLAlchemyError as exc:
        log.info("idea embeddings not cached", extra={"reason": type(exc).__name__})


async def _semantic_rank(
    service: IdeasService, body: SimilarRequest, state: Any
) -> list[tuple[Idea, float]]:
    pool = await service.repo.all_visible(service.me.subject, body.team, SEMANTIC_POOL)
    if not pool:
        return []
    model, query = await _embed(state, [body.text], "query")
    cached = await service.repo.embeddings([i.id for i in pool])
    texts = {idea.id: _idea_text(idea) for idea in pool}
    missing = [
        idea
        for idea in pool
        if (row := cached.get(idea.id)) is None
        or row.text_hash != _hash(texts[idea.id])
        or row.model != model
    ][:EMBED_PER_REQUEST]
    if missing:
        _, vectors = await _embed(state, [texts[i.id] for i in missing], "passage")
        fresh = [
            IdeaEmbedding(
                idea_id=idea.id, model=model, text_hash=_hash(texts[idea.id]), vector=v.tolist()
            )
            for idea, v in zip(missing, vectors, strict=True)
        ]
        cached.update({row.idea_id: row for row in fresh})
        await _remember(state, fresh)
    known = [idea for idea in pool if idea.id in cached and cached[idea.id].model == model]
    if not known:
        return []
    matrix = np.asarray([cached[i.id].vector for i in known], dtype=np.float32)
    scores = matrix @ query[0]
    ranked = [
        (idea, float(score))
        for idea, score in zip(known, scores, strict=True)
        if score >= MIN_COSINE
    ]
    ranked.sort(key=lambda pair: (-pair[1], str(pair[0].id)))
    return ranked


async def find_similar(service: IdeasService, body: SimilarRequest, state: Any) -> SimilarResult:
    """Up to `body.limit` visible, open ideas like `body.text`, best first, each with its fused
    score and what matched it; `semantic` False when only lexical matching answered. `state`
    is the app's state (settings, database, the reflection client)."""
    candidates: Sequence[Idea] = await service.repo.candidates(
        service.me.subject, query_stems(body.text), body.team, CANDIDATE_CAP
    )
    rankings = {"lexical": lexical_rank(body.text, candidates)}
    semantic = True
    try:
        rankings["semantic"] = await _semantic_rank(service, body, state)
    except EmbeddingsUnavailable as exc:
        log.info("semantic duplicate search unavailable", extra={"reason": str(exc)})
        semantic = False
    items = [
        SimilarIdea(
            id=idea.id,
            title=idea.title,
            team=idea.team,
            status=Status(idea.status),
            support_count=idea.support_count,
            score=score,
            matched_by=sorted(sources),
        )
        for idea, score, sources in fuse(rankings, body.limit)
    ]
    return SimilarResult(items=items, semantic=semantic)
