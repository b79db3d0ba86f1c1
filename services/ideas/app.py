"""The ideas service's FastAPI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from kit.auth import Role
from kit.relay_app import relay_running
from services.ideas.api import admin, router
from services.ideas.settings import SERVICE, IdeasSettings
from services.ideas.webhooks import dispatcher_running

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Improvement ideas about one's own work: "
    "capture, review workflow, support, discussion and realised impact."
)


@asynccontextmanager
async def background_work(app: FastAPI) -> AsyncIterator[None]:
    """The outbox relay and the webhook dispatcher, started and stopped with the app."""
    async with relay_running(app, SERVICE, dev_roles=[Role.lrs_client]):
        if app.state.settings.webhook_dispatcher_enabled:
            async with dispatcher_running(app):
                yield
        else:
            yield


def create_app(settings: IdeasSettings | None = None) -> FastAPI:
    settings = settings or IdeasSettings()
    return create_service_app(
        service=SERVICE,
        settings=settings,
        database_url=settings.database,
        migrations=MIGRATIONS,
        routers=[router, admin],
        description=DESCRIPTION,
        extra_lifespan=background_work,
    )
