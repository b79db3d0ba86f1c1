"""The ideas service's FastAPI application."""

from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.ideas.api import admin, router
from services.ideas.settings import SERVICE, IdeasSettings
from services.ideas.webhooks import dispatcher_running

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Improvement ideas about one's own work: "
    "capture, review workflow, support, discussion and realised impact."
)


def create_app(settings: IdeasSettings | None = None) -> FastAPI:
    settings = settings or IdeasSettings()
    return create_service_app(
        service=SERVICE,
        settings=settings,
        database_url=settings.database,
        migrations=MIGRATIONS,
        routers=[router, admin],
        description=DESCRIPTION,
        extra_lifespan=dispatcher_running if settings.webhook_dispatcher_enabled else None,
    )
