"""The shape every Werkvloer process shares, so services differ only in their domain.

`create_service_app` wires settings, JSON logging with request ids, the error model, the token
verifier, the database, the shared HTTP client, `/healthz`, `/readyz` and `/v1/me`. Engines and
clients are made in the lifespan and closed on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from kit.auth import PrincipalDep, make_verifier
from kit.db import Database
from kit.docs_ui import install_docs
from kit.errors import install_error_handlers
from kit.health import ReadinessCheck, health_router
from kit.http import make_client
from kit.inbound import BodyRule, InboundMiddleware, LargeBodies
from kit.logging import RequestContextMiddleware, configure_logging
from kit.migrations import schema_check
from kit.observability import metrics_router, setup_tracing
from kit.openapi import ERROR_RESPONSES
from kit.responses import SafeJSONResponse
from kit.settings import DatabaseServiceSettings, ServiceSettings

ExtraLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class Me(BaseModel):
    """Who the bearer token says the caller is: subject, display name, teams and roles (sorted)."""

    subject: str
    name: str
    teams: list[str]
    roles: list[str]


me_router = APIRouter(tags=["identity"])


@me_router.get("/v1/me", response_model=Me, summary="Who the bearer token says you are")
async def me(principal: PrincipalDep) -> Me:
    """`GET /v1/me`: the caller as their token names them. Raises Unauthorized (401) without a valid
    token."""
    return Me(
        subject=principal.subject,
        name=principal.name,
        teams=sorted(principal.teams),
        roles=sorted(principal.roles),
    )


def create_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    database_url: str | None,
    migrations: Path | None = None,
    routers: list[APIRouter],
    description: str,
    extra_lifespan: ExtraLifespan | None = None,
    body_rules: Sequence[BodyRule] = (),
) -> FastAPI:
    """The FastAPI app of one process (see the module docstring).

    Every request passes kit/inbound.py's entry rules: text, authentication before the body,
    bodies bounded by `settings.max_body_kb` unless one of `body_rules` matches the path."""
    platform = settings.platform

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, platform.log_level)
        app.state.settings = settings
        app.state.platform = platform
        app.state.readiness_checks = {}
        checks: dict[str, ReadinessCheck] = app.state.readiness_checks
        async with make_client() as http:
            app.state.http = http
            app.state.verifier = make_verifier(platform, http)
            database = Database(database_url) if database_url else None
            if database is not None:
                app.state.database = database
                checks["database"] = (
                    schema_check(migrations, database) if migrations else database.ping
                )
            try:
                if extra_lifespan is None:
                    yield
                else:
                    async with extra_lifespan(app):
                        yield
            finally:
                if database is not None:
                    await database.dispose()

    production = platform.is_production
    app = FastAPI(
        title=f"Werkvloer {service}",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # kit.docs_ui serves /docs from the installed Swagger UI
        redoc_url=None,
        responses=ERROR_RESPONSES,
        default_response_class=SafeJSONResponse,
    )
    # Innermost of the process's middleware, inside the crash handler added next.
    app.add_middleware(
        InboundMiddleware,
        default_max_bytes=settings.max_body_kb * 1024,
        rules=body_rules,
        large_bodies=LargeBodies(settings.max_large_bodies, settings.large_body_wait_seconds),
    )
    install_error_handlers(app)  # adds the crash middleware first: it must sit innermost
    setup_tracing(service)
    app.add_middleware(RequestContextMiddleware, service=service)
    if not production:
        install_docs(app)
    app.include_router(health_router(service))
    app.include_router(metrics_router)
    app.include_router(me_router)
    for router in routers:
        app.include_router(router)
    return app


def create_database_service_app(
    settings: DatabaseServiceSettings,
    migrations: Path,
    routers: list[APIRouter],
    description: str,
    *,
    extra_lifespan: ExtraLifespan | None = None,
    body_rules: Sequence[BodyRule] = (),
) -> FastAPI:
    """`create_service_app` for a service that owns a database: named by
    `settings.service_name`, on `settings.database`, ready (/readyz) only while that database's
    schema is at the head of `migrations`."""
    return create_service_app(
        service=settings.service_name,
        settings=settings,
        database_url=settings.database,
        migrations=migrations,
        routers=routers,
        description=description,
        extra_lifespan=extra_lifespan,
        body_rules=body_rules,
    )


def serve(factory_path: str, settings: ServiceSettings) -> None:
    """Run one process with uvicorn on the host and port its settings name."""
    uvicorn.run(
        factory_path,
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        log_config=None,
        access_log=False,
    )
