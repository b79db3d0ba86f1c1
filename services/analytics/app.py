"""The analytics service's FastAPI application."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from kit.app import create_database_service_app
from kit.inbound import BodyRule
from kit.pseudonyms import pseudonym_key
from kit.worker import workers_running
from services.analytics.credentials.api import admin as lrs_clients
from services.analytics.credentials.guard import LRS_REALM
from services.analytics.metrics.api import metrics
from services.analytics.metrics.workers import refresher
from services.analytics.settings import SERVICE, AnalyticsSettings
from services.analytics.statements.api import router as statements
from services.analytics.statements.protocol import XapiVersionMiddleware, validation_as_400
from services.analytics.statements.workers import forwarder

MIGRATIONS = Path(__file__).parent / "migrations"
DESCRIPTION = "The xAPI learning record store and privacy-safe learning metrics."


@asynccontextmanager
async def background_work(app: FastAPI) -> AsyncIterator[None]:
    """For the lifespan: metric months rebuilt as they change, and statements forwarded to
    another LRS when configured (`ANALYTICS_FORWARD_ENABLED=false` keeps the forwarder for
    tests to drive by hand), started and stopped by kit's `workers_running`."""
    forwarding = forwarder(app)
    run_forwarder = forwarding.run_forever if forwarding else None
    workers = {
        "metrics-refresher": refresher(app),
        "lrs-forwarder": run_forwarder if app.state.settings.forward_enabled else None,
    }
    async with workers_running(workers):
        yield


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    """The analytics app: the LRS (`/xapi`), LRS clients and metrics routes, HTTP Basic checked
    before a statement body is read, xAPI's version header and 400s; settings from the
    environment unless given."""
    settings = settings or AnalyticsSettings()
    app = create_database_service_app(
        settings,
        MIGRATIONS,
        [statements, lrs_clients, metrics],
        DESCRIPTION,
        extra_lifespan=background_work,
        # LRS clients authenticate with HTTP Basic, checked by the route before it reads.
        body_rules=[
            BodyRule(
                "/xapi/.*",
                int(settings.max_request_mb * 1024 * 1024),
                basic=True,
                basic_realm=LRS_REALM,
            )
        ],
    )
    app.state.pseudonym_key = pseudonym_key(settings.pseudonym_key, settings.platform, SERVICE)
    app.add_exception_handler(RequestValidationError, validation_as_400)
    app.add_middleware(XapiVersionMiddleware)
    return app
