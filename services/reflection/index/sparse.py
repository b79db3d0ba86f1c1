"""BM25 sparse vectors, computed in-process by Qdrant's own BM25 (Snowball stemming, stop words).

A chunk is stemmed in its own language. A query is stemmed in its detected language; when the
language is unclear (a few words), both ways, each becoming a prefetch of the hybrid query.
"""

from __future__ import annotations

from functools import cache

from qdrant_edge import Bm25, Bm25Config

from services.reflection.index.base import SparseVec
from services.reflection.language import detect

LANGUAGES = {"nl": "dutch", "en": "english"}


@cache
def _model(language: str) -> Bm25:
    return Bm25(Bm25Config(language=LANGUAGES.get(language, "english"), ascii_folding=True))


def _convert(vector: object) -> SparseVec:
    return SparseVec(indices=list(vector.indices), values=list(vector.values))  # type: ignore[attr-defined]


def document_vector(text: str, language: str) -> SparseVec:
    """The BM25 vector of a chunk's text, stemmed in the chunk's language (`nl`, else English)."""
    return _convert(_model(language).embed_document(text))


def query_vectors(text: str) -> list[SparseVec]:
    """The query's BM25 vectors: one in its detected language, else one per language (Dutch and
    English), leaving out empty and repeated ones."""
    detected = detect(text)
    vectors: list[SparseVec] = []
    for language in [detected] if detected else list(LANGUAGES):
        vector = _convert(_model(language).embed_query(text))
        if vector.indices and vector not in vectors:
            vectors.append(vector)
    return vectors
