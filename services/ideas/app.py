"""The ideas service's FastAPI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from kit.app import create_database_service_app
from kit.auth import Role
from kit.relay_app import relay_running
from kit.service_client import ServiceClient
from kit.worker import workers_running
from services.ideas.api import ROUTERS
from services.ideas.settings import SERVICE, IdeasSettings
from services.ideas.workers import WebhookDispatcher

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = (
    "Improvement ideas about one's own work: "
    "capture, review workflow, support, discussion and realised impact."
)


@asynccontextmanager
async def background_work(app: FastAPI) -> AsyncIterator[None]:
    """The reflection service's client (semantic duplicate search), the outbox relay and the
    webhook dispatcher (`app.state.webhook_dispatcher`), started and stopped with the app."""
    settings: IdeasSettings = app.state.settings
    app.state.reflection = ServiceClient(
        "reflection",
        settings.reflection_url,
        app.state.http,
        timeout_seconds=settings.embedding_timeout_seconds,
    )
    dispatcher = WebhookDispatcher(app.state.database, app.state.http, settings)
    app.state.webhook_dispatcher = dispatcher
    run = dispatcher.run_forever if settings.webhook_dispatcher_enabled else None
    async with (
        relay_running(app, SERVICE, dev_roles=[Role.lrs_client]),
        workers_running({"webhook-dispatcher": run}),
    ):
        yield


def create_app(settings: IdeasSettings | None = None) -> FastAPI:
    """The ideas service (`settings` default: read from `IDEAS_*` and `.env`)."""
    settings = settings or IdeasSettings()
    return create_database_service_app(
        settings, MIGRATIONS, ROUTERS, DESCRIPTION, extra_lifespan=background_work
    )
