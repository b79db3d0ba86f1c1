"""The reflection service's FastAPI application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.reflection.settings import SERVICE, ReflectionSettings

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Process documents, hybrid retrieval with citations, and guided reflection on one's own work."
)


def create_app(settings: ReflectionSettings | None = None) -> FastAPI:
    settings = settings or ReflectionSettings()
    return create_service_app(
        service=SERVICE,
        settings=settings,
        database_url=settings.database,
        migrations=MIGRATIONS,
        routers=[],
        description=DESCRIPTION,
    )
